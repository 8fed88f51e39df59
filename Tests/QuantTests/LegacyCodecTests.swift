import GGUF
import Testing
@testable import Quant

/// The F16, BF16 and legacy block codecs against llama-quantize's files (rows of tiny-*.gguf) and
/// against llama.cpp's own codecs run on edge-case blocks.
@Suite struct LegacyCodecTests {
    static let referenceTypes: [GGMLType] = [.f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0]
    static let blockTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0]

    static func quantize(_ type: GGMLType, _ floats: ArraySlice<Float>) throws -> [UInt8] {
        let count = try #require(type.byteCount(elements: floats.count))
        var out = [UInt8](repeating: 0xAA, count: count)
        try Array(floats).withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { dst in try Codecs.quantize(type, src, into: dst) }
        }
        return out
    }

    static func dequantize(_ type: GGMLType, _ bytes: ArraySlice<UInt8>, count: Int) throws -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        try Array(bytes).withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { dst in try Codecs.dequantize(type, src, into: dst) }
        }
        return out
    }

    /// Bit patterns, so that NaNs and −0 compare exactly.
    static func bits(_ floats: [Float]) -> [UInt32] { floats.map(\.bitPattern) }

    /// The first index where two arrays differ (or the shorter length), nil if equal: short failure messages.
    static func firstMismatch<T: Equatable>(_ a: [T], _ b: [T]) -> Int? {
        if let i = (0..<Swift.min(a.count, b.count)).first(where: { a[$0] != b[$0] }) { return i }
        return a.count == b.count ? nil : Swift.min(a.count, b.count)
    }

    @Test(arguments: referenceTypes)
    func quantizesRowsLikeLlamaQuantize(_ type: GGMLType) throws {
        let index = try Fixtures.json("rows.json", as: Fixtures.Rows.self)
        let source = try Fixtures.floats("source.f32")
        let entry = try #require(index.types[type.name])
        let reference = try Fixtures.bytes(entry.bytes)
        #expect(entry.rows.count >= 34)
        for picked in entry.rows {
            let row = index.rows[picked.row]
            let ours = try Self.quantize(type, source[row.offset..<row.offset + row.count])
            let theirs = reference[picked.byteOffset..<picked.byteOffset + picked.byteCount]
            #expect(Self.firstMismatch(ours, Array(theirs)) == nil, "\(type) \(row.tensor) row \(row.row) (\(entry.file))")
        }
    }

    @Test(arguments: referenceTypes)
    func dequantizesRowsLikeGGUFPy(_ type: GGMLType) throws {
        let index = try Fixtures.json("rows.json", as: Fixtures.Rows.self)
        let entry = try #require(index.types[type.name])
        let reference = try Fixtures.bytes(entry.bytes)
        // Block types: gguf-py's dequantize. F16/BF16: gguf-py is a plain cast, i.e. Swift's Float16
        // conversion and a 16-bit shift.
        let expectedAll = try entry.dequantized.map(Fixtures.floats)
        var floatOffset = 0
        for picked in entry.rows {
            let row = index.rows[picked.row]
            let bytes = reference[picked.byteOffset..<picked.byteOffset + picked.byteCount]
            let ours = try Self.dequantize(type, bytes, count: row.count)
            let expected: [Float]
            if let expectedAll {
                expected = Array(expectedAll[floatOffset..<floatOffset + row.count])
            } else {
                let halves = stride(from: bytes.startIndex, to: bytes.endIndex, by: 2).map {
                    UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8
                }
                expected = halves.map { type == .f16 ? Float(Float16(bitPattern: $0)) : Float(bitPattern: UInt32($0) << 16) }
            }
            #expect(Self.firstMismatch(Self.bits(ours), Self.bits(expected)) == nil, "\(type) \(row.tensor) row \(row.row)")
            floatOffset += row.count
        }
    }

    @Test(arguments: blockTypes + [.f16, .bf16])
    func matchesLlamaCppOnEdgeCases(_ type: GGMLType) throws {
        let input = try Fixtures.floats("edge.f32")
        let name = type.name.lowercased()
        let expectedBytes = try Fixtures.bytes("edge-\(name).bin")
        let expectedFloats = try Fixtures.floats("edge-\(name).dequant.f32")
        let rowBytes = type.typeSize * (32 / type.blockSize)
        for block in 0..<input.count / 32 {
            let ours = try Self.quantize(type, input[block * 32..<(block + 1) * 32])
            let theirs = Array(expectedBytes[block * rowBytes..<(block + 1) * rowBytes])
            #expect(Self.firstMismatch(ours, theirs) == nil, "\(type) edge block \(block)")
            let back = try Self.dequantize(type, theirs[...], count: 32)
            #expect(Self.firstMismatch(Self.bits(back), Self.bits(Array(expectedFloats[block * 32..<(block + 1) * 32]))) == nil,
                    "\(type) edge block \(block) dequantized")
        }
    }

    @Test func allZeroQ4_0BlocksStoreNegativeZeroScale() throws {
        // blk.1.attn_output has all-zero rows; llama-quantize stored d = -0.0 (0x8000) in every block.
        let index = try Fixtures.json("rows.json", as: Fixtures.Rows.self)
        let source = try Fixtures.floats("source.f32")
        let entry = try #require(index.types["Q4_0"])
        let reference = try Fixtures.bytes(entry.bytes)
        let zeroRows = entry.rows.filter { picked in
            let row = index.rows[picked.row]
            return source[row.offset..<row.offset + row.count].allSatisfy { $0 == 0 }
        }
        #expect(!zeroRows.isEmpty)
        for picked in zeroRows {
            for block in stride(from: picked.byteOffset, to: picked.byteOffset + picked.byteCount, by: 18) {
                #expect(reference[block] == 0x00 && reference[block + 1] == 0x80)
            }
            let row = index.rows[picked.row]
            let ours = try Self.quantize(.q4_0, source[row.offset..<row.offset + row.count])
            #expect(ours[0] == 0x00 && ours[1] == 0x80)
        }
    }

    @Test func f32CopiesBothWays() throws {
        let input = try Fixtures.floats("edge.f32")
        let bytes = try Self.quantize(.f32, input[...])
        #expect(bytes == (try Fixtures.bytes("edge.f32")))
        #expect(Self.bits(try Self.dequantize(.f32, bytes[...], count: input.count)) == Self.bits(input))
    }

    @Test func registryKnowsEveryCodec() {
        let codecs: [(GGMLType, any BlockQuantizer.Type)] = [
            (.f32, F32Codec.self), (.f16, F16Codec.self), (.bf16, BF16Codec.self), (.q4_0, Q4_0.self),
            (.q4_1, Q4_1.self), (.q5_0, Q5_0.self), (.q5_1, Q5_1.self), (.q8_0, Q8_0.self),
        ]
        for (type, codec) in codecs {
            #expect(codec.type == type)
            #expect(Codecs.decoder(for: type).map { ObjectIdentifier($0) } == ObjectIdentifier(codec))
            #expect(Codecs.encoder(for: type).map { ObjectIdentifier($0) } == ObjectIdentifier(codec))
        }
    }

    @Test func rowEntryPointsRejectWrongSizes() {
        let floats = [Float](repeating: 1, count: 64)
        var bytes = [UInt8](repeating: 0, count: 35)
        floats.withUnsafeBufferPointer { src in
            bytes.withUnsafeMutableBytes { dst in
                #expect(throws: QuantError.sizeMismatch(.q4_0, elements: 64, bytes: 35)) {
                    try Codecs.quantize(.q4_0, src, into: dst)
                }
                #expect(throws: QuantError.sizeMismatch(.q8_0, elements: 48, bytes: 35)) {
                    try Codecs.quantize(.q8_0, UnsafeBufferPointer(rebasing: src[0..<48]), into: dst)
                }
            }
        }
    }

    /// Unaligned source and destination pointers (blocks inside a row start at odd offsets).
    @Test(arguments: blockTypes + [.f16, .bf16, .f32])
    func worksOnUnalignedBuffers(_ type: GGMLType) throws {
        let input = Array(try Fixtures.floats("source.f32")[0..<256])
        let expected = try Self.quantize(type, input[...])
        var shifted = [UInt8](repeating: 0, count: expected.count + 1)
        input.withUnsafeBufferPointer { src in
            shifted.withUnsafeMutableBytes { raw in
                let codec = Codecs.encoder(for: type)!
                codec.quantize(src.baseAddress!, into: raw.baseAddress! + 1, blocks: 256 / type.blockSize)
            }
        }
        #expect(Array(shifted[1...]) == expected)
        let back = try Self.dequantize(type, expected[...], count: 256)
        var again = [Float](repeating: 0, count: 256)
        shifted.withUnsafeBytes { raw in
            again.withUnsafeMutableBufferPointer { dst in
                Codecs.decoder(for: type)!.dequantize(raw.baseAddress! + 1, into: dst.baseAddress!, blocks: 256 / type.blockSize)
            }
        }
        #expect(Self.bits(again) == Self.bits(back))
    }
}
