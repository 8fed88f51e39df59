import Foundation
import Testing
@testable import GGUF

/// Reading files written by gguf-py and llama.cpp, checked against gguf-py's own reading.
@Suite struct GGUFFileTests {
    /// gguf-py's reading of all-types.gguf, dumped by scripts/fixtures/container.py.
    nonisolated(unsafe) static let oracle: [String: Any] = {
        let data = FileManager.default.contents(atPath: Fixture.path("all-types.json"))!
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    @Test func allValueTypesMatchGGUFPy() throws {
        let file = try GGUFFile(path: Fixture.path("all-types.gguf"))
        let oracle = Self.oracle
        #expect(file.alignment == oracle["alignment"] as! Int)
        #expect(file.dataOffset == oracle["data_offset"] as! Int)
        #expect(file.metadata.keys == oracle["keys"] as! [String])
        let meta = oracle["metadata"] as! [String: [String: Any]]
        for (key, value) in file.metadata {
            let expected = meta[key]!
            let typeName = expected["type"] as! String
            #expect(ggufPyTypeName(value.type) == typeName, "\(key)")
            if case .array(let elementType, let elements) = value {
                #expect(ggufPyTypeName(elementType) == expected["element"] as! String, "\(key)")
                let values = expected["value"] as! [Any]
                #expect(elements.count == values.count)
                for (e, v) in zip(elements, values) { #expect(matches(e, v), "\(key): \(e) vs \(v)") }
            } else {
                #expect(matches(value, expected["value"]!), "\(key): \(value) vs \(expected["value"]!)")
            }
        }
        // A few values stated by the generator itself.
        #expect(file.metadata["t.str"] == .string("héllo wörld ✓ 🦙"))
        #expect(file.metadata["t.f32"] == .float32(0.1))
        #expect(file.metadata["t.u64"] == .uint64(18_000_000_000_000_000_000))
        #expect(file.metadata["t.arr.f64"] == .array(.float64, [.float64(1e300), .float64(-0.0)]))
        #expect(file.metadata["t.arr.bool"] == .array(.bool, [.bool(true), .bool(false), .bool(true)]))

        let tensors = oracle["tensors"] as! [[String: Any]]
        #expect(file.tensors.map(\.name) == tensors.map { $0["name"] as! String })
        for (t, o) in zip(file.tensors, tensors) {
            #expect(t.type.name == o["type"] as! String)
            #expect(t.shape == o["shape"] as! [Int])
            #expect(t.offset == o["offset"] as! Int)
            #expect(t.byteCount == o["bytes"] as! Int)
            #expect(file.withBytes(of: t) { Array($0.prefix(16)) } == (o["first_bytes"] as! [Int]).map(UInt8.init))
            #expect(file.tensor(named: t.name) == t)
        }
        // gguf-py keeps n_dims = 2 for the [256, 1] column.
        #expect(file.tensor(named: "col")?.shape == [256, 1])
        #expect(file.tensor(named: "col")?.rowCount == 1)
        #expect(file.tensor(named: "q8")?.rowCount == 2)
        #expect(file.tensor(named: "missing") == nil)
    }

    @Test func vocabularyOnlyFile() throws {
        // Values as printed by gguf-py's GGUFReader for this file.
        let file = try GGUFFile(path: Fixture.path("ggml-vocab-llama-spm.gguf"))
        #expect(file.version == 3)
        #expect(file.tensors.isEmpty)
        #expect(file.metadata.count == 22)
        #expect(file.metadata["general.architecture"] == .string("llama"))
        #expect(file.metadata["tokenizer.ggml.model"] == .string("llama"))
        let tokens = try #require(file.metadata["tokenizer.ggml.tokens"]?.array)
        #expect(tokens.count == 32000)
        #expect(tokens[0] == .string("<unk>"))
        #expect(tokens[3] == .string("<0x00>"))
        #expect(file.metadata["tokenizer.ggml.scores"]?.array?.count == 32000)
        #expect(file.metadata["tokenizer.ggml.add_bos_token"] == .bool(true))
        #expect(file.dataOffset == file.fileSize)  // gguf-py wrote no padding after the infos
    }

    @Test func quantizedFile() throws {
        let file = try GGUFFile(path: Fixture.path("base-Q8_0.gguf"))
        #expect(file.tensors.count == 21)
        #expect(file.dataOffset == 2400)
        let output = try #require(file.tensor(named: "output.weight"))
        #expect(output.type == .q8_0 && output.shape == [64, 512] && output.offset == 0)
        #expect(output.byteCount == 512 * 2 * 34)
        #expect(file.metadata["general.file_type"] == .uint32(7))
        #expect(file.metadata.keys.last == "general.file_type")
    }

    @Test func smallHandBuiltFile() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = try GGUFFile(path: dir.write(SmallFile.bytes(), to: "small.gguf"))
        #expect(file.metadata.keys == ["general.architecture", "general.alignment", "x.arr", "x.flag"])
        #expect(file.metadata["x.arr"] == .array(.int32, [.int32(1), .int32(-2), .int32(3)]))
        #expect(file.metadata["x.flag"] == .bool(true))
        #expect(file.dataOffset == SmallFile.dataOffset)
        #expect(file.tensors == [TensorInfo(name: "a", shape: [8, 2], type: .f32, offset: 0),
                                 TensorInfo(name: "b", shape: [32], type: .q8_0, offset: 64)])
        #expect(file.withBytes(of: file.tensors[1]) { Array($0) } == (64..<98).map { UInt8($0) })
    }

    @Test func zeroTensorFileWithoutMetadata() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = try GGUFFile(path: dir.write(ByteBuilder.header(tensors: 0, pairs: 0).bytes, to: "e.gguf"))
        #expect(file.metadata.isEmpty && file.tensors.isEmpty && file.dataOffset == 24)
        let v2 = try GGUFFile(path: dir.write(ByteBuilder.header(version: 2, tensors: 0, pairs: 0).bytes, to: "v2.gguf"))
        #expect(v2.version == 2)
    }
}

private func ggufPyTypeName(_ t: MetadataValueType) -> String {
    switch t {
    case .uint8: "UINT8"; case .int8: "INT8"; case .uint16: "UINT16"; case .int16: "INT16"
    case .uint32: "UINT32"; case .int32: "INT32"; case .float32: "FLOAT32"; case .bool: "BOOL"
    case .string: "STRING"; case .array: "ARRAY"; case .uint64: "UINT64"; case .int64: "INT64"
    case .float64: "FLOAT64"
    }
}

/// Whether a value equals the JSON value gguf-py produced for it.
private func matches(_ value: MetadataValue, _ json: Any) -> Bool {
    switch value {
    case .string(let s): return json as? String == s
    case .bool(let b): return (json as? NSNumber)?.boolValue == b
    case .float32(let f): return (json as? NSNumber).map { Float($0.doubleValue) == f } ?? false
    case .float64(let d): return (json as? NSNumber).map { $0.doubleValue == d } ?? false
    case .uint64(let u): return (json as? NSNumber)?.uint64Value == u
    default:
        guard let i = value.int, let n = json as? NSNumber else { return false }
        return n.int64Value == Int64(i)
    }
}

/// `copyBytes(of:ranges:into:)`: bytes of tensors read with `pread`, as `check` reads its sampled rows.
@Suite struct CopyBytesTests {
    @Test func copiesTheRangesAsTheMappingHoldsThem() throws {
        let file = try GGUFFile(path: Fixture.path("base-Q8_0.gguf"))
        let tensor = try #require(file.tensors.max { $0.byteCount < $1.byteCount })
        let row = tensor.rowByteCount
        #expect(tensor.rowCount >= 8)
        // Scattered rows, and a run of adjacent ones (read at once).
        let ranges = [0 ..< row, 3 * row ..< 4 * row, 4 * row ..< 5 * row, 5 * row ..< 6 * row, (tensor.rowCount - 1) * row ..< tensor.rowCount * row]
        let total = ranges.reduce(0) { $0 + $1.count }
        var copied = [UInt8](repeating: 0xEE, count: total + 3)
        try copied.withUnsafeMutableBytes { try file.copyBytes(of: tensor, ranges: ranges, into: $0) }
        let expected = file.withBytes(of: tensor) { bytes in ranges.flatMap { Array(bytes[$0]) } }
        #expect(Array(copied[..<total]) == expected)
        #expect(copied[total...].allSatisfy { $0 == 0xEE })  // nothing written past the ranges
    }

    @Test func aFileCutShortAfterOpeningIsAReadError() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write(readBytes(Fixture.path("base-Q8_0.gguf")), to: "cut.gguf")
        let file = try GGUFFile(path: path)
        let tensor = try #require(file.tensors.last)
        #expect(truncate(path, off_t(file.dataOffset + tensor.offset)) == 0)
        var buffer = [UInt8](repeating: 0, count: tensor.rowByteCount)
        let error = #expect(throws: GGUFError.self) {
            try buffer.withUnsafeMutableBytes { try file.copyBytes(of: tensor, ranges: [0 ..< tensor.rowByteCount], into: $0) }
        }
        #expect(error?.description == "\(path): read failed: the file ends at byte \(file.dataOffset + tensor.offset), before byte \(file.dataOffset + tensor.offset + tensor.rowByteCount)")
    }
}
