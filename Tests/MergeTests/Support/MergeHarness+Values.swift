import Merge

extension MergeHarness {
    /// Runs `method` on small hand-written tensors (all of ggml shape `shape`, default 1-D), with the
    /// method's defaults overridden by `perModel` (parallel to `tensors`) and `global`.
    static func run(_ method: any MergeMethod, _ tensors: [[Float]], shape: [Int]? = nil, base: Int? = nil,
                    perModel: [[String: Double]]? = nil, global: [String: ParameterValue] = [:],
                    seed: UInt64 = 0) throws(MergeError) -> [Float] {
        let buffers = tensors.map { values -> UnsafeMutableBufferPointer<Float> in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
            _ = buffer.initialize(from: values)
            return buffer
        }
        defer { for buffer in buffers { buffer.deallocate() } }
        let parameters = (perModel ?? tensors.map { _ in [:] }).map { model(method, $0) }
        let input = MergeInput(name: "t", shape: shape ?? [tensors[0].count], tensors: buffers,
                               modelParameters: parameters, parameters: self.global(method, global),
                               baseIndex: base, seed: seed)
        var output = [Float](repeating: .nan, count: tensors[0].count)
        try output.withUnsafeMutableBufferPointer { (out) throws(MergeError) in try method.merge(input, into: out) }
        return output
    }

    /// max |xᵢ − yᵢ| (infinity when the lengths differ).
    static func maxDifference(_ x: [Float], _ y: [Float]) -> Float {
        guard x.count == y.count else { return .infinity }
        return zip(x, y).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Whether mergekit's `filter: self_attn` matches the tensor's Hugging Face name
    /// (`model.layers.N.self_attn.*_proj`).
    static func isSelfAttention(_ tensor: String) -> Bool {
        [".attn_q.", ".attn_k.", ".attn_v.", ".attn_output."].contains { tensor.contains($0) }
    }

    /// Checks `method` on every fixture tensor against `expected-<config>.gguf`; returns the worst
    /// relative L2 error.
    static func worstError(_ config: String, _ method: any MergeMethod, inputs: [String], base: String?,
                           perModel: (String) -> [Parameters], global: (String) -> Parameters) throws -> Double {
        let expected = try Fixture.f32Tensors("expected-\(config).gguf")
        var worst = 0.0
        for name in tensorNames {
            guard let want = expected[name]?.values else { return .infinity }
            let got = try merge(method, tensor: name, inputs: inputs, base: base,
                                perModel: perModel(name), global: global(name))
            worst = max(worst, relativeL2(got, want))
        }
        print("\(config): max relative L2 error \(worst)")
        return worst
    }
}
