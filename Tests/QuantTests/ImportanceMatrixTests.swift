import Foundation
import GGUF
import Testing
@testable import Quant

/// Importance matrices and the weighted quantizers, against llama.cpp's own files and code
/// (`Fixtures/imatrix`, see its README.md).
@Suite struct ImportanceMatrixTests {
    static let directory = Fixtures.directory.deletingLastPathComponent().appendingPathComponent("imatrix")

    struct Index: Decodable {
        struct File: Decodable {
            let file: String
            let keys: [String]
            let tensors: [Fixtures.Recipes.Tensor]
        }
        let tensor: String
        let rows: Int
        let edges: [String]
        let types: [String]
        let files: [File]
    }

    static let index: Index = {
        do {
            return try JSONDecoder().decode(Index.self, from: Data(contentsOf: directory.appendingPathComponent("index.json")))
        } catch {
            fatalError("Fixtures/imatrix/index.json: \(error)")
        }
    }()

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return data.withUnsafeBytes { raw in
            (0 ..< raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    @Test func readsTheGGUFFormatAsLlamaQuantizeNormalizesIt() throws {
        let matrix = try ImportanceMatrix(path: Self.path("tiny-imatrix.gguf"))
        #expect(matrix.format == .gguf)
        #expect(matrix.entries.count == 15)
        #expect(matrix.entries["token_embd.weight"] == nil)
        #expect(matrix.datasets == ["synthetic lognormal importances (seed 11)"])
        #expect(matrix.chunkCount == 0)
        // in_sum2 / lround(count), in float: llama-quantize's load_imatrix, computed by the fixture script.
        let expected = try Self.floats("weights.f32")
        let weights = try #require(matrix.entries[Self.index.tensor])
        #expect(weights.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(matrix.quantizeMetadata.map(\.0) == ["quantize.imatrix.file", "quantize.imatrix.dataset",
                                                       "quantize.imatrix.entries_count"])
    }

    @Test func readsTheLegacyFormatToTheSameWeights() throws {
        let gguf = try ImportanceMatrix(path: Self.path("tiny-imatrix.gguf"))
        let legacy = try ImportanceMatrix(path: Self.path("tiny-imatrix.dat"))
        #expect(legacy.format == .legacy)
        #expect(legacy.datasets == gguf.datasets)
        #expect(legacy.chunkCount == 0)
        #expect(Set(legacy.entries.keys) == Set(gguf.entries.keys))
        // The .dat stores in_sum2 / count with ncall = 1: the same floats.
        for (name, weights) in gguf.entries {
            #expect(legacy.entries[name]?.map(\.bitPattern) == weights.map(\.bitPattern), "\(name)")
        }
    }

    @Test func filtersEntriesLikeIncludeAndExcludeWeights() throws {
        let matrix = try ImportanceMatrix(path: Self.path("tiny-imatrix.gguf"))
        #expect(matrix.filtered(including: ["attn_v"]).entries.keys.sorted() == ["blk.0.attn_v.weight", "blk.1.attn_v.weight"])
        #expect(matrix.filtered(excluding: ["blk."]).entries.keys.sorted() == ["output.weight"])
        // "output" is found in attn_output too, as llama-quantize's substring match finds it.
        #expect(matrix.filtered(including: ["ffn_up", "output"]).entries.count == 5)
    }

    @Test func checksEntrySizesAgainstTensors() throws {
        let matrix = try ImportanceMatrix(path: Self.path("tiny-imatrix.gguf"))
        #expect(try matrix.weights(for: "blk.0.attn_q.weight", shape: [256, 256])?.count == 256)
        #expect(try matrix.weights(for: "token_embd.weight", shape: [256, 512]) == nil)
        let path = Self.path("tiny-imatrix.gguf")
        #expect(throws: ImportanceMatrixError.sizeMismatch(path: path, tensor: "blk.0.attn_q.weight", values: 256, expected: 1024)) {
            try matrix.weights(for: "blk.0.attn_q.weight", shape: [256, 256, 4])
        }
    }

    @Test(arguments: index.types)
    func weightedQuantizationMatchesLlamaCpp(_ typeName: String) throws {
        let type = try #require(GGMLType(name: typeName))
        let rows = try Self.floats("rows.f32")
        let weights = try Self.floats("weights.f32")
        let expected = [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent("rows.\(typeName)")))
        let rowBytes = expected.count / (rows.count / 256)
        var output = [UInt8](repeating: 0, count: expected.count)
        try rows.withUnsafeBufferPointer { src in
            try weights.withUnsafeBufferPointer { w in
                try output.withUnsafeMutableBytes { dst in
                    try Codecs.quantize(type, src, into: dst, rowLength: 256, importance: w)
                }
            }
        }
        let names = (0 ..< Self.index.rows).map { "\(Self.index.tensor) row \($0)" } + Self.index.edges
        for (row, name) in names.enumerated() {
            let range = row * rowBytes ..< (row + 1) * rowBytes
            #expect(Array(output[range]) == Array(expected[range]), "\(typeName): \(name)")
        }
    }

    @Test func refusesMalformedLegacyFiles() throws {
        let original = [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent("tiny-imatrix.dat")))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("imatrix-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ bytes: [UInt8], _ name: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            return url.path
        }
        let truncated = try write(Array(original.prefix(100)), "truncated.dat")
        #expect(throws: ImportanceMatrixError.unreadable(.truncated(path: truncated, offset: 35, what: "256 values of blk.0.attn_k.weight"))) {
            try ImportanceMatrix(path: truncated)
        }
        let empty = try write([0, 0, 0, 0], "empty.dat")
        #expect(throws: ImportanceMatrixError.empty(path: empty)) { try ImportanceMatrix(path: empty) }
        // A NaN weight: llama-quantize refuses ("imatrix contains non-finite value").
        var nan = original
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { nan.replaceSubrange(35 ..< 39, with: $0) }
        let nanPath = try write(nan, "nan.dat")
        #expect(throws: ImportanceMatrixError.self) { try ImportanceMatrix(path: nanPath) }
        #expect(throws: ImportanceMatrixError.unreadable(.cannotOpen(path: directory.appendingPathComponent("missing.dat").path,
                                                                     reason: "No such file or directory"))) {
            try ImportanceMatrix(path: directory.appendingPathComponent("missing.dat").path)
        }
    }

    @Test func refusesGGUFFilesWithoutImatrixMetadata() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imatrix-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        let writer = try GGUFWriter(path: url.path, metadata: ["general.type": .string("imatrix")],
                                    tensors: [TensorDescriptor(name: "a.weight.in_sum2", shape: [4], type: .f32)])
        try writer.append([UInt8](repeating: 0, count: 16))
        try writer.finish()
        #expect(throws: ImportanceMatrixError.missingMetadata(path: url.path, key: "imatrix.datasets")) {
            try ImportanceMatrix(path: url.path)
        }
    }

    /// llama-quantize's tensor types and metadata keys with `--imatrix`, for every oracle file.
    @Test(arguments: index.files.map(\.file).filter { !$0.contains("-pure-") })
    func recipeWithAnImportanceMatrixMatchesLlamaQuantize(_ fileName: String) throws {
        let file = try #require(Self.index.files.first { $0.file == fileName })
        let input = try #require(QuantizationRecipeTests.recipes.inputs["tiny-f32.gguf"])
        let typeName = fileName.replacingOccurrences(of: "tiny-imx-dat-", with: "").replacingOccurrences(of: "tiny-imx-", with: "")
            .replacingOccurrences(of: ".gguf", with: "")
        let fileType = try #require(FileType(name: typeName))
        let tensors = try QuantizationRecipeTests.tensors(input.tensors)
        let recipe = try QuantizationRecipe(fileType: fileType, options: .init(hasImportanceMatrix: true),
                                            model: QuantizationRecipeTests.model(input), tensors: tensors)
        #expect(recipe.order.map { tensors[$0].name } == file.tensors.map(\.name))
        for (position, index) in recipe.order.enumerated() where position < file.tensors.count {
            #expect(recipe.type(forTensorAt: index).name == file.tensors[position].type, "\(fileName): \(file.tensors[position].name)")
        }
        let matrix = try ImportanceMatrix(path: Self.path(fileName.contains("-dat-") ? "tiny-imatrix.dat" : "tiny-imatrix.gguf"))
        let metadata = Metadata(input.keys.map { ($0, MetadataValue.uint32(0)) })
        #expect(QuantizedMetadata.apply(to: metadata, fileType: fileType, importance: matrix).keys == file.keys)
    }

    @Test func typesThatNeedAnImportanceMatrixAreRefusedWithoutOne() throws {
        let input = try #require(QuantizationRecipeTests.recipes.inputs["tiny-f32.gguf"])
        let tensors = try QuantizationRecipeTests.tensors(input.tensors)
        #expect(throws: QuantError.requiresImportanceMatrix(tensor: "blk.0.attn_k.weight", type: .iq2_XS)) {
            try QuantizationRecipe(fileType: .iq2_XS, model: QuantizationRecipeTests.model(input), tensors: tensors)
        }
        #expect(throws: QuantError.requiresImportanceMatrix(tensor: "blk.0.attn_k.weight", type: .q2_K)) {
            try QuantizationRecipe(fileType: .q2_K_S, model: QuantizationRecipeTests.model(input), tensors: tensors)
        }
        let recipe = try QuantizationRecipe(fileType: .q2_K_S, options: .init(hasImportanceMatrix: true),
                                            model: QuantizationRecipeTests.model(input), tensors: tensors)
        let k = try #require(tensors.firstIndex { $0.name == "blk.0.attn_k.weight" })
        let output = try #require(tensors.firstIndex { $0.name == "output.weight" })
        #expect(recipe.requiresImportanceMatrix(k))
        #expect(!recipe.requiresImportanceMatrix(output))
    }
}
