import Foundation
import GGUF
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
}
