/// mergekit's Reinforced Agent Merging: `ram` and `ramplus_tl` (arXiv 2601.13572). Task vectors
/// `τᵢ = modelᵢ − base` keep only their elements with `|τ| > epsilon`; an element changed by one model
/// takes that model's change, an element changed by several takes their mean.
///
/// `ramplus_tl` (tensor-local) also scales each model's unique changes by
/// `λᵢ = 1 + r · clamp(sharedᵢ / max(uniqueᵢ, epsilon), 0, alpha)`, where `sharedᵢ` and `uniqueᵢ` count
/// the model's kept elements that other models change too, and that only it changes, over the whole
/// tensor: those counts are the method's one statistics pass (`counts`, then `scales`).
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

    /// Equal inputs give zero task vectors: the base.
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        let base = try unit.requireBase(name)
        let epsilon = Float(try unit.number(name, Self.epsilon))
        let models = unit.nonBaseIndices
        guard scalesUniqueChanges else {
            return Merge(base: base, models: models, epsilon: epsilon, scales: [Float](repeating: 1, count: models.count))
        }
        return ScaledMerge(merge: Merge(base: base, models: models, epsilon: epsilon, scales: []),
                           r: Float(try unit.number(name, Self.r)), alpha: Float(try unit.number(name, Self.alpha)))
    }

    /// The row pass (all `ram` needs): task vectors from the piece, then `combine`.
    struct Merge: RowLocalMerge {
        var base: Int
        var models: [Int]
        var epsilon: Float
        /// Each model's `λᵢ` for its unique changes (1 for `ram`).
        var scales: [Float]

        /// The piece's task vectors, in the models' scratch inputs.
        func taskVectors(_ piece: RowPiece) -> [UnsafeBufferPointer<Float>] {
            let base = piece.inputs[self.base]
            return models.map { index in
                let vector = piece.inputs[index]
                for e in vector.indices { vector[e] = vector[e] - base[e] }
                return UnsafeBufferPointer(vector)
            }
        }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            let vectors = taskVectors(piece)
            RAM.combine(vectors, base: UnsafeBufferPointer(piece.inputs[base]), epsilon: epsilon, scales: scales, into: output)
        }
    }

    /// `ramplus_tl`: one statistics pass counting each model's shared and unique kept elements over
    /// the whole unit (integer counts: exact in any order), then `Merge` with the scales.
    struct ScaledMerge: UnitMerge {
        var merge: Merge
        var r: Float
        var alpha: Float
        var shared: [Int] = []
        var unique: [Int] = []
        var done = false

        init(merge: Merge, r: Float, alpha: Float) {
            self.merge = merge
            self.r = r
            self.alpha = alpha
            shared = [Int](repeating: 0, count: merge.models.count)
            unique = shared
        }

        var needsPass: Bool { !done }

        func statistics(_ piece: RowPiece) -> (shared: [Int], unique: [Int]) {
            RAM.counts(merge.taskVectors(piece), epsilon: merge.epsilon)
        }

        mutating func accumulate(_ partial: (shared: [Int], unique: [Int])) {
            for i in shared.indices {
                shared[i] &+= partial.shared[i]
                unique[i] &+= partial.unique[i]
            }
        }

        mutating func finishPass() throws(MergeError) {
            merge.scales = RAM.scales(shared: shared, unique: unique, epsilon: merge.epsilon, r: r, alpha: alpha)
            done = true
        }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            merge.merge(piece, into: output)
        }
    }

    /// The statistics of `ramplus_tl` over some elements: per model, its kept elements (`|τ| > epsilon`)
    /// that other models change too (`shared`) and that only it changes (`unique`).
    static func counts(_ taskVectors: [UnsafeBufferPointer<Float>], epsilon: Float) -> (shared: [Int], unique: [Int]) {
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
        return (shared, unique)
    }

    /// Each model's scale `λᵢ = 1 + r · clamp(sharedᵢ / max(uniqueᵢ, epsilon), 0, alpha)` from its
    /// counts over the whole tensor.
    static func scales(shared: [Int], unique: [Int], epsilon: Float, r: Float, alpha: Float) -> [Float] {
        zip(shared, unique).map { shared, unique in
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
