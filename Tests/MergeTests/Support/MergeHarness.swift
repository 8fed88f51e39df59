import Merge

/// Test support: runs a merge method on the fixture models (base, a, b, c) the way the engine will,
/// one whole tensor at a time, with parameters built by hand from a fixture config.
enum MergeHarness {
    typealias Tensors = [String: (shape: [Int], values: [Float])]

    /// The four input models of Fixtures/merge, loaded once.
    static let models: [String: Tensors] = {
        var models: [String: Tensors] = [:]
        for name in ["base", "a", "b", "c"] {
            models[name] = try! Fixture.f32Tensors("\(name).gguf")
        }
        return models
    }()

    /// The tensor names every fixture holds (three layers' attn_k, attn_norm, ffn_down and output_norm).
    static let tensorNames: [String] = models["base"]!.keys.sorted()

    /// Merges tensor `tensor` of `inputs` (model names in mergekit's order: the listed models, then
    /// the base, which mergekit appends) with per-input parameters `perModel` (parallel to `inputs`).
    static func merge(_ method: any MergeMethod, tensor: String, inputs: [String], base: String?,
                      perModel: [Parameters], global: Parameters, seed: UInt64 = 0) throws -> [Float] {
        let shape = models[inputs[0]]![tensor]!.shape
        let buffers = inputs.map { name -> UnsafeMutableBufferPointer<Float> in
            let values = models[name]![tensor]!.values
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
            _ = buffer.initialize(from: values)
            return buffer
        }
        defer { for buffer in buffers { buffer.deallocate() } }
        var output = [Float](repeating: .nan, count: buffers[0].count)
        let input = MergeInput(name: tensor, shape: shape, tensors: buffers, modelParameters: perModel,
                               parameters: global, baseIndex: base.flatMap { inputs.firstIndex(of: $0) }, seed: seed)
        try output.withUnsafeMutableBufferPointer { out in try method.merge(input, into: out) }
        return output
    }

    /// Global parameters: the method's defaults overridden by `values`.
    static func global(_ method: any MergeMethod, _ values: [String: ParameterValue] = [:]) -> Parameters {
        var parameters = Parameters()
        for spec in method.parameters where spec.scope == .global { parameters[spec.name] = spec.defaultValue }
        for (name, value) in values { parameters[name] = value }
        return parameters
    }

    /// Per-model parameters: the method's defaults overridden by `values`.
    static func model(_ method: any MergeMethod, _ values: [String: Double]) -> Parameters {
        var parameters = Parameters()
        for spec in method.parameters where spec.scope == .perModel {
            if let value = spec.defaultValue { parameters[spec.name] = value }
        }
        for (name, value) in values { parameters[name] = .number(value) }
        return parameters
    }

    /// ‖x − y‖₂ / ‖y‖₂ in double.
    static func relativeL2(_ x: [Float], _ y: [Float]) -> Double {
        var difference = 0.0, norm = 0.0
        for (a, b) in zip(x, y) {
            difference += Double(a - b) * Double(a - b)
            norm += Double(b) * Double(b)
        }
        return norm == 0 ? difference.squareRoot() : (difference / norm).squareRoot()
    }

    /// The layer index of `blk.N.…`, nil for non-layer tensors.
    static func layer(of tensor: String) -> Int? {
        let parts = tensor.split(separator: ".")
        guard parts.count > 1, parts[0] == "blk" else { return nil }
        return Int(parts[1])
    }

    /// mergekit's gradient evaluation (`evaluate_setting` in mergekit/config.py): layer j of L
    /// takes t = j/(L−1); non-layer tensors take t = 0. The list is interpolated linearly at
    /// `t·(count−1)`.
    static func gradient(_ values: [Double], tensor: String, layers: Int = 3) -> Double {
        let t = layer(of: tensor).map { Double($0) / Double(layers - 1) } ?? 0
        let scaled = t * Double(values.count - 1)
        let i0 = Int(scaled)
        let i1 = min(values.count - 1, i0 + 1)
        let fraction = scaled - Double(i0)
        return (1 - fraction) * values[i0] + fraction * values[i1]
    }

    /// Whether mergekit's `filter: mlp` matches the tensor's Hugging Face name: only the MLP
    /// projections (`model.layers.N.mlp.*_proj`); attention and the norms do not match.
    static func isMLP(_ tensor: String) -> Bool {
        [".ffn_down.", ".ffn_up.", ".ffn_gate."].contains { tensor.contains($0) }
    }
}
