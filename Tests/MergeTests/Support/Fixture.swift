import Foundation
import GGUF
import Merge
import Quant

/// Test support: the merge fixtures (mergekit's reference merges, trimmed; see Fixtures/merge/README.md).
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/merge")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The tensors of a fixture file (any path relative to Fixtures/merge, or absolute), dequantized,
    /// by name with their ggml shapes.
    static func f32Tensors(_ file: String) throws -> [String: (shape: [Int], values: [Float])] {
        try tensors(atPath: file.hasPrefix("/") ? file : path(file))
    }

    static func tensors(atPath path: String) throws -> [String: (shape: [Int], values: [Float])] {
        let model = try GGUFModel(path: path)
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for tensor in model.tensors {
            var values = [Float](repeating: 0, count: tensor.elementCount)
            try values.withUnsafeMutableBufferPointer { out in try model.withBytes(of: tensor) { try Codecs.dequantize(tensor.type, $0, into: out) } }
            tensors[tensor.name] = (tensor.shape, values)
        }
        return tensors
    }

    /// Runs `body` with a new empty folder in the temporary directory, deleted afterwards.
    static func withTemporaryFolder<R>(_ prefix: String, _ body: (_ folder: String) throws -> R) throws -> R {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try body(folder)
    }

    /// Each model at `paths` quantized to Q8_0 by `ggufmerge quantize`'s plan, written to
    /// `<folder>/<its file name>`.
    static func quantizeToQ8_0(_ paths: [String], in folder: String) throws {
        for path in paths {
            let name = (path as NSString).lastPathComponent
            let input = InputModel(label: name, model: try GGUFModel(path: path))
            try MergeEngine(threads: 2).run(try MergePlan.quantize(input, fileType: .q8_0), to: "\(folder)/\(name)")
        }
    }
}
