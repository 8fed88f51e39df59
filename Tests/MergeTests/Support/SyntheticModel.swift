import Foundation
import GGUF
import Merge
import Quant

/// A small Llama-shaped model made in the test (hidden 256 so every K-quant applies), with
/// fine-tunes whose task vectors have a chosen size: float originals for the rounding-noise tests.
enum SyntheticModel {
    /// Tensor names and ggml shapes: a 2-layer Llama's tensors with rows of 256 (every K-quant
    /// applies) and few rows each (the recipe looks at names and row lengths only).
    static let shapes: [(name: String, shape: [Int])] = {
        var shapes: [(String, [Int])] = [("token_embd.weight", [256, 64]), ("output_norm.weight", [256]), ("output.weight", [256, 64])]
        for layer in 0..<2 {
            for (kind, shape) in [("attn_norm", [256]), ("attn_q", [256, 64]), ("attn_k", [256, 32]), ("attn_v", [256, 32]),
                                  ("attn_output", [256, 64]), ("ffn_norm", [256]), ("ffn_gate", [256, 64]),
                                  ("ffn_up", [256, 64]), ("ffn_down", [256, 64])] {
                shapes.append(("blk.\(layer).\(kind).weight", shape))
            }
        }
        return shapes
    }()

    static let metadata: Metadata = [
        "general.architecture": .string("llama"),
        "llama.block_count": .uint32(2),
        "llama.embedding_length": .uint32(256),
        "llama.attention.head_count": .uint32(4),
        "llama.attention.head_count_kv": .uint32(2),
    ]

    /// Standard normal draws from `stream` (Box–Muller on its uniform pairs).
    static func gaussian(_ count: Int, _ stream: RandomStream) -> [Float] {
        (0..<count).map { k in
            let (u, v) = stream.uniformPair(at: k)
            return (-2 * log(max(u, 0x1p-24))).squareRoot() * cos(2 * Float.pi * v)
        }
    }

    /// The base's weights: Gaussian rows with scales varying by row (as trained weights do), the
    /// ffn_down tensors heavy-tailed (a Student t with 4 degrees of freedom); norms around 1.
    static func base() -> [String: [Float]] {
        var tensors: [String: [Float]] = [:]
        for (index, (name, shape)) in shapes.enumerated() {
            let count = shape.reduce(1, *)
            let stream = RandomStream(seed: 7, stream: index)
            if shape.count == 1 {
                tensors[name] = gaussian(count, stream).map { 1 + 0.1 * $0 }
                continue
            }
            var values = gaussian(count, stream)
            if name.contains("ffn_down") {
                let chi = (0..<4).map { gaussian(count, RandomStream(seed: 8 + UInt64($0), stream: index)) }
                for k in values.indices {
                    let s = (chi[0][k] * chi[0][k] + chi[1][k] * chi[1][k] + chi[2][k] * chi[2][k] + chi[3][k] * chi[3][k]) / 4
                    values[k] /= max(s, 1e-3).squareRoot()
                }
            }
            let rowScales = gaussian(shape[1], RandomStream(seed: 9, stream: index)).map { 0.02 * exp(0.3 * $0) }
            for k in values.indices { values[k] *= rowScales[k / shape[0]] }
            tensors[name] = values
        }
        return tensors
    }

    /// `base` plus a dense Gaussian task vector on every 2-D weight with ‖τ‖ = `relative`·‖W‖.
    static func fineTune(_ base: [String: [Float]], relative: Float, seed: UInt64) -> [String: [Float]] {
        var tensors = base
        for (index, (name, shape)) in shapes.enumerated() where shape.count == 2 {
            let weights = base[name]!
            let delta = gaussian(weights.count, RandomStream(seed: seed, stream: index))
            let scale = relative * norm(weights) / norm(delta)
            tensors[name] = zip(weights, delta).map { $0 + scale * $1 }
        }
        return tensors
    }

    static func norm(_ x: [Float]) -> Float { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// Writes `tensors` as `fileType` (llama-quantize's recipe; F32 norms) to `path`; returns each
    /// tensor's dequantized values.
    @discardableResult
    static func write(_ tensors: [String: [Float]], as fileType: FileType?, to path: String) throws -> [String: [Float]] {
        let types: [GGMLType]
        if let fileType {
            let recipe = try QuantizationRecipe(fileType: fileType,
                                                model: ModelHyperparameters(architecture: "llama", blockCount: 2, headCount: 4, headCountKV: 2),
                                                tensors: shapes.map { .init(name: $0.name, shape: $0.shape, type: .f32) })
            types = recipe.types
        } else {
            types = shapes.map { _ in .f32 }
        }
        let descriptors = zip(shapes, types).map { TensorDescriptor(name: $0.name, shape: $0.shape, type: $1) }
        let writer = try GGUFWriter(path: path, metadata: metadata, tensors: descriptors)
        var decoded: [String: [Float]] = [:]
        for descriptor in descriptors {
            let values = tensors[descriptor.name]!
            var bytes = [UInt8](repeating: 0, count: descriptor.byteCount)
            try values.withUnsafeBufferPointer { src in
                try bytes.withUnsafeMutableBytes { try Codecs.quantize(descriptor.type, src, into: $0) }
            }
            var back = [Float](repeating: 0, count: values.count)
            try bytes.withUnsafeBytes { raw in try back.withUnsafeMutableBufferPointer { try Codecs.dequantize(descriptor.type, raw, into: $0) } }
            decoded[descriptor.name] = back
            try writer.append(bytes)
        }
        try writer.finish()
        return decoded
    }
}
