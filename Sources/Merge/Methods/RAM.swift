/// mergekit's Reinforced Agent Merging: `ram` and `ramplus_tl` (arXiv 2601.13572). Task vectors
/// `τᵢ = modelᵢ − base` keep only their elements with `|τ| > epsilon`; an element changed by one model
/// takes that model's change, an element changed by several takes their mean.
///
/// `ramplus_tl` (tensor-local) also scales each model's unique changes by
/// `λᵢ = 1 + r · clamp(sharedᵢ / max(uniqueᵢ, epsilon), 0, alpha)`, where `sharedᵢ` and `uniqueᵢ` count
/// the model's kept elements that other models change too, and that only it changes, over the whole
/// tensor: that count is the method's one whole-tensor statistic (`scales(_:epsilon:r:alpha:)`).
///
/// Parameters (global): `epsilon` (default 1e-5); `ramplus_tl` also `r` (0.1) and `alpha` (0.2).
/// Inputs: the base (required) and any number of models; with none, the base.
///
/// As mergekit 0.1.5's `ram_merge`/`ramplus_tl_merge` in float32: per element, the sum over models
/// in input order of `τᵢ·λᵢ` (unique) or `τᵢ / count` (shared), added to the base.
public struct RAM: MergeMethod {
    /// Whether unique changes are scaled by `λᵢ` (`ramplus_tl`).
    public let scalesUniqueChanges: Bool

    public static let ram = RAM(scalesUniqueChanges: false)
    public static let ramplusTL = RAM(scalesUniqueChanges: true)

    public var name: String { scalesUniqueChanges ? "ramplus_tl" : "ram" }
    static let epsilon = ParameterSpec("epsilon", .number, .global, default: .number(1e-5))
    static let r = ParameterSpec("r", .number, .global, default: .number(0.1))
    static let alpha = ParameterSpec("alpha", .number, .global, default: .number(0.2))
    public var parameters: [ParameterSpec] { scalesUniqueChanges ? [Self.r, Self.alpha, Self.epsilon] : [Self.epsilon] }
    public var basePolicy: BaseModelPolicy { .required }

    /// `ram` is element-wise; `ramplus_tl`'s scales count over the whole tensor.
    public var isRowLocal: Bool { !scalesUniqueChanges }

    /// Equal inputs give zero task vectors: the base.
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        try input.checkSizes(name, output: output)
        guard let baseIndex = input.baseIndex else { throw input.invalid(name, "requires a base model") }
        let epsilon = Float(try input.number(name, Self.epsilon))
        let base = input.tensors[baseIndex].readOnly
        // The task vectors replace the models in the scratch inputs.
        let vectors = input.nonBaseIndices.map { input.tensors[$0] }
        for vector in vectors {
            for e in vector.indices { vector[e] = vector[e] - base[e] }
        }
        let taskVectors = vectors.map(\.readOnly)
        let scales: [Float] = scalesUniqueChanges
            ? Self.scales(taskVectors, epsilon: epsilon, r: Float(try input.number(name, Self.r)),
                          alpha: Float(try input.number(name, Self.alpha)))
            : [Float](repeating: 1, count: vectors.count)
        Self.combine(taskVectors, base: base, epsilon: epsilon, scales: scales, into: output)
    }

    /// The statistics pass of `ramplus_tl`: each model's scale `λᵢ` for its unique changes, from the
    /// counts of its kept elements that are shared or unique over the whole tensor.
    static func scales(_ taskVectors: [UnsafeBufferPointer<Float>], epsilon: Float, r: Float, alpha: Float) -> [Float] {
        var shared = [Int](repeating: 0, count: taskVectors.count)
        var unique = [Int](repeating: 0, count: taskVectors.count)
        let count = taskVectors.first?.count ?? 0
        for e in 0 ..< count {
            var contributors = 0
            for vector in taskVectors where abs(vector[e]) > epsilon { contributors &+= 1 }
            if contributors == 0 { continue }
            for (i, vector) in taskVectors.enumerated() where abs(vector[e]) > epsilon {
                if contributors == 1 { unique[i] &+= 1 } else { shared[i] &+= 1 }
            }
        }
        return zip(shared, unique).map { shared, unique in
            let rho = Float(shared) / max(Float(unique), epsilon)
            return 1 + r * min(max(rho, 0), alpha)
        }
    }

    /// The row pass: `base + Σᵢ kept τᵢ · (λᵢ if unique, 1/count if shared)`, element by element.
    static func combine(_ taskVectors: [UnsafeBufferPointer<Float>], base: UnsafeBufferPointer<Float>, epsilon: Float,
                        scales: [Float], into output: UnsafeMutableBufferPointer<Float>) {
        for e in output.indices {
            var contributors: Float = 0
            for vector in taskVectors where abs(vector[e]) > epsilon { contributors += 1 }
            var sum: Float = 0
            if contributors == 1 {
                for (i, vector) in taskVectors.enumerated() where abs(vector[e]) > epsilon { sum = sum + vector[e] * scales[i] }
            } else if contributors > 1 {
                for vector in taskVectors where abs(vector[e]) > epsilon { sum = sum + vector[e] / contributors }
            }
            output[e] = base[e] + sum
        }
    }
}
