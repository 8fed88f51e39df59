import Merge

/// Test support, the one harness: runs a merge method on arrays or on the fixture models (base, a, b,
/// c) through the piece pipeline, with parameters built by hand, and measures errors.
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
        try run(method, name: tensor, shape: models[inputs[0]]![tensor]!.shape, inputs.map { models[$0]![tensor]!.values },
                modelParameters: perModel, parameters: global.values, baseIndex: base.flatMap { inputs.firstIndex(of: $0) },
                seed: seed)
    }

    /// Runs `method` on `tensors` (per-input `weights`, or `modelParameters`), cut into pieces of
    /// `rowsPerPiece` rows.
    static func run(_ method: any MergeMethod, name: String = "test", shape: [Int], _ tensors: [[Float]],
                    weights: [Double?]? = nil, modelParameters: [Parameters]? = nil,
                    parameters: [String: ParameterValue] = [:], baseIndex: Int? = nil, seed: UInt64 = 0,
                    rowsPerPiece: Int = 1) throws(MergeError) -> [Float] {
        let perModel = modelParameters ?? tensors.indices.map { index in
            guard let weight = weights?[index] else { return Parameters() }
            return Parameters(["weight": .number(weight)])
        }
        let buffers = tensors.map { tensor in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: tensor.count)
            _ = buffer.initialize(from: tensor)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var output = [Float](repeating: .nan, count: tensors.first?.count ?? 0)
        let input = MergeInput(name: name, shape: shape, tensors: buffers, modelParameters: perModel,
                               parameters: Parameters(parameters), baseIndex: baseIndex, seed: seed)
        var failure: MergeError?
        output.withUnsafeMutableBufferPointer { out in
            do throws(MergeError) { try method.merge(input, into: out, rowsPerPiece: rowsPerPiece) } catch { failure = error }
        }
        if let failure { throw failure }
        return output
    }

    /// The error thrown by `body`, if any.
    static func error(_ body: () throws -> [Float]) -> MergeError? {
        do { _ = try body(); return nil } catch { return error as? MergeError }
    }

    /// True when `error` is `invalidInputs` whose reason contains `text`.
    static func isInvalid(_ error: MergeError?, _ text: String) -> Bool {
        if case let .invalidInputs(_, _, reason)? = error { return reason.contains(text) }
        return false
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

    /// ‖x − y‖₂ / ‖y‖₂ in double (‖x − y‖₂ when y is zero).
    static func relativeError(_ x: [Float], _ y: [Float]) -> Double {
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
