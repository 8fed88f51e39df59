import Foundation
import Testing
@testable import GGUF

/// Every validation rule, on files crafted byte by byte. None may trap.
@Suite struct MalformedFileTests {
    /// A header with one pair (`k`, built by `value`) and no tensors.
    static func onePair(_ key: String = "k", _ value: (inout ByteBuilder) -> Void) -> [UInt8] {
        var b = ByteBuilder.header(tensors: 0, pairs: 1)
        b.string(key)
        value(&b)
        return b.bytes
    }

    /// A header with no pairs and the given tensor infos, then `dataBytes` bytes of data.
    static func tensors(_ infos: [(String, [Int64], UInt32, UInt64)], pairs: (inout ByteBuilder) -> UInt64 = { _ in 0 },
                        dataBytes: Int = 4096) -> [UInt8] {
        var kv = ByteBuilder()
        let n = pairs(&kv)
        var b = ByteBuilder.header(tensors: UInt64(infos.count), pairs: n)
        b.raw(kv.bytes)
        for (name, shape, type, offset) in infos { b.tensor(name, shape: shape, type: type, offset: offset) }
        b.pad(to: 32)
        b.zeros(dataBytes)
        return b.bytes
    }

    @Test func everyTruncationThrows() {
        let full = SmallFile.bytes()
        #expect(openError(full) == nil)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for length in 0..<full.count {
            let path = dir.write(Array(full.prefix(length)), to: "t\(length).gguf")
            do {
                _ = try GGUFFile(path: path)
                Issue.record("prefix of \(length) bytes opened")
            } catch {
                switch error {
                case .truncated, .notGGUF, .countExceedsFile, .tensorOutOfBounds: break
                default: Issue.record("prefix of \(length) bytes: unexpected \(error)")
                }
            }
        }
    }

    @Test func everySingleByteCorruptionIsHandled() {
        // Flipping any byte of the header must give a file or an error, never a trap.
        let full = SmallFile.bytes()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for i in 0..<SmallFile.dataOffset {
            for flip: UInt8 in [0xFF, 0x80, 0x01] {
                var b = full
                b[i] ^= flip
                _ = try? GGUFFile(path: dir.write(b, to: "c.gguf"))
            }
        }
    }

    @Test func cannotOpen() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        #expect(throws: GGUFError.cannotOpen(path: dir.file("none.gguf"), reason: "No such file or directory")) {
            try GGUFFile(path: dir.file("none.gguf"))
        }
        #expect {
            try GGUFFile(path: dir.path)
        } throws: { ($0 as? GGUFError).map { if case .cannotOpen = $0 { true } else { false } } ?? false }
    }

    @Test func emptyFile() {
        let e = openError([])
        #expect(e == .truncated(path: e?.path ?? "", offset: 0, what: "the magic (the file is empty)"))
    }

    @Test func badMagic() {
        var b = ByteBuilder()
        b.raw(Array("GGML".utf8)); b.zeros(20)
        let e = openError(b.bytes)
        #expect(e == .notGGUF(path: e?.path ?? "", magic: Array("GGML".utf8)))
        #expect(e?.description.hasSuffix("not a GGUF file (magic 'GGML', expected 'GGUF')") == true)
        #expect(openError([0x47, 0x47]).map { if case .notGGUF = $0 { true } else { false } } == true)
    }

    @Test(arguments: [UInt32(0), 1, 4, 0xFFFF_0001])
    func unsupportedVersion(_ version: UInt32) {
        let e = openError(ByteBuilder.header(version: version, tensors: 0, pairs: 0).bytes)
        #expect(e == .unsupportedVersion(path: e?.path ?? "", version: version))
    }

    @Test func bigEndian() {
        var b = ByteBuilder()
        b.raw(Array("GGUF".utf8)); b.raw([0, 0, 0, 3]); b.zeros(16)
        let e = openError(b.bytes)
        #expect(e == .bigEndian(path: e?.path ?? ""))
        #expect(e?.description.hasSuffix("byte 4: big-endian GGUF is not supported") == true)
    }

    @Test func hugeCountsAreRejectedBeforeAllocating() {
        let e = openError(ByteBuilder.header(tensors: .max, pairs: 0).bytes)
        #expect(e == .countExceedsFile(path: e?.path ?? "", offset: 8, what: "tensor count", count: .max))
        #expect(e?.description.hasSuffix(".gguf: byte 8: tensor count 18446744073709551615 exceeds file size") == true)
        let kv = openError(ByteBuilder.header(tensors: 0, pairs: 1 << 40).bytes)
        #expect(kv == .countExceedsFile(path: kv?.path ?? "", offset: 16, what: "metadata pair count", count: 1 << 40))
        // An array claiming 2^61 u64 elements, and a string longer than the file.
        let arr = openError(Self.onePair { $0.u32(9); $0.u32(10); $0.u64(1 << 61); $0.u64(0) })
        #expect(arr == .countExceedsFile(path: arr?.path ?? "", offset: 41, what: "array length of key 'k'", count: 1 << 61))
        let str = openError(Self.onePair { $0.u32(8); $0.u64(100); $0.raw([1, 2, 3]) })
        #expect(str == .countExceedsFile(path: str?.path ?? "", offset: 37, what: "length of a string value of key 'k'", count: 100))
        let key = openError({ var b = ByteBuilder.header(tensors: 0, pairs: 1); b.u64(.max); b.zeros(8); return b.bytes }())
        #expect(key == .countExceedsFile(path: key?.path ?? "", offset: 24, what: "length of the key of metadata pair 0", count: .max))
    }

    @Test func invalidUTF8() {
        let key = openError({ var b = ByteBuilder.header(tensors: 0, pairs: 1); b.rawString([0x61, 0xFF]); b.u32(0); b.u8(0); return b.bytes }())
        #expect(key == .invalidUTF8(path: key?.path ?? "", offset: 24, what: "the key of metadata pair 0"))
        // A truncated 4-byte sequence (F0 9F 98) followed by ASCII: the repairing decoder would
        // replace 3 bytes by one U+FFFD of 3 bytes, so a count check alone would miss it.
        let value = openError(Self.onePair { $0.u32(8); $0.rawString([0xF0, 0x9F, 0x98, 0x41]) })
        #expect(value == .invalidUTF8(path: value?.path ?? "", offset: 37, what: "a string value of key 'k'"))
        let arr = openError(Self.onePair { $0.u32(9); $0.u32(8); $0.u64(2); $0.string("ok"); $0.rawString([0xC0, 0x80]) })
        #expect(arr.map { if case .invalidUTF8 = $0 { true } else { false } } == true)
        var b = ByteBuilder.header(tensors: 1, pairs: 0)
        b.rawString([0xED, 0xA0, 0x80])  // an encoded surrogate
        b.u32(1); b.i64(4); b.u32(0); b.u64(0); b.pad(to: 32); b.zeros(16)
        let t = openError(b.bytes)
        #expect(t == .invalidUTF8(path: t?.path ?? "", offset: 24, what: "the name of tensor 0"))
    }

    @Test func emptyAndDuplicateKeys() {
        let empty = openError(Self.onePair("") { $0.u32(0); $0.u8(1) })
        #expect(empty == .emptyKey(path: empty?.path ?? "", offset: 24))
        var b = ByteBuilder.header(tensors: 0, pairs: 2)
        b.kvU32("a.b", 1)
        b.kvU32("a.b", 2)
        let dup = openError(b.bytes)
        #expect(dup == .duplicateKey(path: dup?.path ?? "", offset: 43, key: "a.b"))
    }

    @Test func unknownValueTypes() {
        let scalar = openError(Self.onePair { $0.u32(13); $0.u8(0) })
        #expect(scalar == .unknownValueType(path: scalar?.path ?? "", offset: 33, key: "k", type: 13))
        let element = openError(Self.onePair { $0.u32(9); $0.u32(0xFFFF_FFFF); $0.u64(0) })
        #expect(element == .unknownValueType(path: element?.path ?? "", offset: 37, key: "k", type: 0xFFFF_FFFF))
    }

    @Test func nestedArray() {
        let e = openError(Self.onePair { $0.u32(9); $0.u32(9); $0.u64(1); $0.u32(4); $0.u64(0) })
        #expect(e == .nestedArray(path: e?.path ?? "", offset: 37, key: "k"))
    }

    @Test func badBool() {
        let scalar = openError(Self.onePair { $0.u32(7); $0.u8(2) })
        #expect(scalar == .invalidBool(path: scalar?.path ?? "", offset: 37, key: "k", byte: 2))
        let inArray = openError(Self.onePair { $0.u32(9); $0.u32(7); $0.u64(3); $0.raw([0, 1, 0xFF]) })
        #expect(inArray == .invalidBool(path: inArray?.path ?? "", offset: 51, key: "k", byte: 0xFF))
    }

    @Test func alignment() {
        let wrongType = openError(Self.onePair("general.alignment") { $0.u32(10); $0.u64(32) })
        #expect(wrongType == .invalidAlignment(path: wrongType?.path ?? "", reason: "must be of type u32 but is u64"))
        for bad: UInt32 in [0, 48] {
            let e = openError(Self.onePair("general.alignment") { $0.u32(4); $0.u32(bad) })
            #expect(e == .invalidAlignment(path: e?.path ?? "", reason: "\(bad) is not a power of two"))
        }
    }

    @Test func duplicateAndOverlongTensorNames() {
        let dup = openError(Self.tensors([("w", [4], 0, 0), ("w", [4], 0, 32)]))
        #expect(dup == .duplicateTensor(path: dup?.path ?? "", offset: 57, name: "w"))
        let long = String(repeating: "x", count: 64)
        let e = openError(Self.tensors([(long, [4], 0, 0)]))
        #expect(e == .tensorNameTooLong(path: e?.path ?? "", offset: 24, name: long))
        #expect(openError(Self.tensors([(String(long.dropLast()), [4], 0, 0)])) == nil)
    }

    @Test(arguments: [0, 5])
    func dimensionCount(_ n: Int) {
        var b = ByteBuilder.header(tensors: 1, pairs: 0)
        b.string("w"); b.u32(UInt32(n))
        for _ in 0..<n { b.i64(1) }
        b.u32(0); b.u64(0); b.pad(to: 32); b.zeros(32)
        let e = openError(b.bytes)
        #expect(e == .invalidDimensionCount(path: e?.path ?? "", offset: 33, tensor: "w", count: UInt32(n)))
    }

    @Test func shapes() {
        let zero = openError(Self.tensors([("w", [4, 0], 0, 0)]))
        #expect(zero == .invalidShape(path: zero?.path ?? "", offset: 45, tensor: "w", reason: "has dimension 1 = 0, expected at least 1"))
        let negative = openError(Self.tensors([("w", [-4], 0, 0)]))
        #expect(negative == .invalidShape(path: negative?.path ?? "", offset: 37, tensor: "w", reason: "has dimension 0 = -4, expected at least 1"))
        let elements = openError(Self.tensors([("w", [1 << 40, 1 << 40], 0, 0)]))
        #expect(elements == .invalidShape(path: elements?.path ?? "", offset: 33, tensor: "w", reason: "has an element count that overflows 64 bits"))
        let bytes = openError(Self.tensors([("w", [1 << 31, 1 << 31], 0, 0)]))  // 2^62 F32 = 2^64 bytes
        #expect(bytes == .invalidShape(path: bytes?.path ?? "", offset: 33, tensor: "w", reason: "has a size in bytes that overflows 64 bits"))
    }

    @Test(arguments: [UInt32(4), 5, 31, 36, 43, 0xFFFF_FFFF])
    func unknownTensorType(_ type: UInt32) {
        let e = openError(Self.tensors([("blk.0.w", [256], type, 0)]))
        #expect(e == .unknownTensorType(path: e?.path ?? "", offset: 51, tensor: "blk.0.w", type: type))
        #expect(e?.description.hasSuffix("tensor 'blk.0.w' has unknown ggml type \(type)") == true)
    }

    @Test func rowNotMultipleOfBlock() {
        let e = openError(Self.tensors([("w", [16, 2], 8, 0)]))
        #expect(e == .rowNotBlockMultiple(path: e?.path ?? "", offset: 33, tensor: "w", rowLength: 16, type: .q8_0))
        let k = openError(Self.tensors([("w", [128], 12, 0)]))
        #expect(k == .rowNotBlockMultiple(path: k?.path ?? "", offset: 33, tensor: "w", rowLength: 128, type: .q4_K))
    }

    @Test func layout() {
        // a: 40 bytes at 0 (padded to 64); b must be at 64.
        #expect(openError(Self.tensors([("a", [10], 0, 0), ("b", [4], 0, 64)])) == nil)
        let misaligned = openError(Self.tensors([("a", [10], 0, 0), ("b", [4], 0, 48)]))
        #expect(misaligned == .misalignedTensor(path: misaligned?.path ?? "", tensor: "b", offset: 48, alignment: 32))
        let overlap = openError(Self.tensors([("a", [10], 0, 0), ("b", [4], 0, 32)]))
        #expect(overlap == .overlappingTensor(path: overlap?.path ?? "", tensor: "b", offset: 32, previous: "a", previousEnd: 40))
        let same = openError(Self.tensors([("a", [10], 0, 0), ("b", [4], 0, 0)]))
        #expect(same.map { if case .overlappingTensor = $0 { true } else { false } } == true)
        let gap = openError(Self.tensors([("a", [10], 0, 0), ("b", [4], 0, 128)]))
        #expect(gap == .unexpectedTensorOffset(path: gap?.path ?? "", tensor: "b", offset: 128, expected: 64))
        #expect(gap?.description.hasSuffix("tensor 'b' has data offset 128, expected 64") == true)
        let first = openError(Self.tensors([("a", [10], 0, 32)]))
        #expect(first == .unexpectedTensorOffset(path: first?.path ?? "", tensor: "a", offset: 32, expected: 0))
        let huge = openError(Self.tensors([("a", [10], 0, .max)]))
        #expect(huge.map { if case .misalignedTensor = $0 { true } else { false } } == true)
        // Custom alignment 64 is honoured.
        let aligned64 = Self.tensors([("a", [10], 0, 0), ("b", [4], 0, 64)]) { b in b.kvU32("general.alignment", 64); return 1 }
        #expect(openError(aligned64) == nil)
        let mis64 = Self.tensors([("a", [10], 0, 0), ("b", [4], 0, 32)]) { b in b.kvU32("general.alignment", 64); return 1 }
        #expect(openError(mis64).map { if case .misalignedTensor(_, "b", 32, 64) = $0 { true } else { false } } == true)
    }

    @Test func dataOutOfBounds() {
        let e = openError(Self.tensors([("a", [1000], 0, 0)], dataBytes: 3999))
        #expect(e == .tensorOutOfBounds(path: e?.path ?? "", tensor: "a", start: 64, byteCount: 4000, fileSize: 4063))
        #expect(openError(Self.tensors([("a", [1000], 0, 0)], dataBytes: 4000)) == nil)
    }

    @Test func descriptionsAreOneLineWithPathAndOffset() {
        let e = GGUFError.countExceedsFile(path: "model.gguf", offset: 24, what: "tensor count", count: .max)
        #expect(e.description == "model.gguf: byte 24: tensor count 18446744073709551615 exceeds file size")
        let samples: [GGUFError] = [
            .truncated(path: "m.gguf", offset: 7, what: "the version"),
            .unknownTensorType(path: "m.gguf", offset: 9, tensor: "t", type: 99),
            .writeFailed(path: "o.gguf", reason: "No space left on device"),
        ]
        for s in samples { #expect(!s.description.contains("\n") && s.description.hasPrefix(s.path + ": ")) }
    }
}
