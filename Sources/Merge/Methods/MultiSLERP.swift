import Foundation

/// mergekit's `multislerp`: barycentric interpolation of any number of models on the hypersphere,
/// optionally around a base model (then task vectors `model − base` are interpolated and the base
/// added back).
///
/// Parameters: `weight` (per model, required on the non-base models), `normalize_weights` (global,
/// default true: weights divided by their sum), `eps` (global, default 1e-8). Inputs: at least one
/// non-base model, plus the base if given (mergekit: base optional, `min_non_base = 1`). With a single
/// non-base model the result is that model, unchanged (the base is not used).
///
/// As mergekit 0.1.5's `multislerp` in float32, over each tensor as one flattened vector: units
/// `xᵢ / (‖xᵢ‖ + eps)`, their weighted mean `m` normalized (two models whose mean has norm < eps fall
/// back to `w₁x₁ + w₂x₂`; more is an error), tangents `uᵢ − (uᵢ·m)m`, their weighted sum `τ`, and
/// `(m·cos‖τ‖' + τ·sin‖τ‖'/‖τ‖')·Σ wᵢ‖xᵢ‖` with `‖τ‖' = ‖τ‖ + eps`. (Mathematically τ = 0, so the
/// result is the normalized weighted mean of the units scaled by the weighted mean norm; τ holds
/// float32 rounding noise, computed here the same way.) Norms and dots are summed in `Double` and
/// rounded to float32.
public struct MultiSLERP: MergeMethod {
    public init() {}

    public let name = "multislerp"
    static let weight = ParameterSpec("weight", .number, .perModel, default: nil)
    static let normalizeWeights = ParameterSpec("normalize_weights", .bool, .global, default: .bool(true))
    static let eps = ParameterSpec("eps", .number, .global, default: .number(1e-8))
    public var parameters: [ParameterSpec] { [Self.weight, Self.normalizeWeights, Self.eps] }
    public var basePolicy: BaseModelPolicy { .optional }

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        let models = unit.nonBaseIndices
        if models.isEmpty { throw unit.invalid(name, "requires at least 1 non-base model; got 0") }
        if models.count == 1 { return Merge(models: models, base: nil, weights: [1], eps: 0, tensor: unit.name) }
        var weights: [Float] = []
        for index in models { weights.append(Float(try unit.number(name, Self.weight, input: index))) }
        if try unit.bool(name, Self.normalizeWeights) {
            var sum: Float = 0
            for w in weights { sum += w }
            weights = weights.map { $0 / sum }
        }
        return Merge(models: models, base: unit.baseIndex, weights: weights, eps: Float(try unit.number(name, Self.eps)),
                     tensor: unit.name)
    }

    /// Four statistics passes over the whole tensor (the inputs' norms; the norm of the weighted mean
    /// of the units; the units' dots with the normalized mean; the tangents' norm), then the
    /// combination element by element. One non-base model is returned unchanged.
    struct Merge: UnitMerge {
        var models: [Int]
        var base: Int?
        var weights: [Float]
        var eps: Float
        var tensor: String
        /// The current pass's sums: per model squares, then the mean's squares, the dots, the tangent's.
        var sums: [Double]
        var stage = 0
        var divisors: [Float] = []
        var norms: [Float] = []
        var meanNorm: Float = 1
        var dots: [Float] = []
        /// `(cos‖τ‖', sin‖τ‖'/‖τ‖', Σ wᵢ‖xᵢ‖)` once known.
        var finish: (cosine: Float, sineRatio: Float, averageNorm: Float)? = nil
        /// The weighted sum of the two inputs (mergekit's fallback for a zero mean).
        var linear = false

        init(models: [Int], base: Int?, weights: [Float], eps: Float, tensor: String) {
            self.models = models
            self.base = base
            self.weights = weights
            self.eps = eps
            self.tensor = tensor
            sums = [Double](repeating: 0, count: models.count)
        }

        var needsPass: Bool { models.count > 1 && finish == nil && !linear }

        /// The (task-vector) inputs of a piece, in place.
        func inputs(_ piece: RowPiece) -> [UnsafeMutableBufferPointer<Float>] {
            let xs = models.map { piece.inputs[$0] }
            if let base { for x in xs { x.subtract(piece.inputs[base]) } }
            return xs
        }

        /// Element `i` of the weighted mean of the units `x / (‖x‖ + eps)`.
        @inline(__always)
        func mean(_ xs: [UnsafeMutableBufferPointer<Float>], _ i: Int) -> Float {
            var sum: Float = 0
            for k in xs.indices { sum = sum + (xs[k][i] / divisors[k]) * weights[k] }
            return sum
        }

        /// Element `i` of the weighted sum of the tangents, given the normalized mean `m` there.
        @inline(__always)
        func tangent(_ xs: [UnsafeMutableBufferPointer<Float>], _ i: Int, _ m: Float) -> Float {
            var sum: Float = 0
            for k in xs.indices { sum = sum + (xs[k][i] / divisors[k] - dots[k] * m) * weights[k] }
            return sum
        }

        func statistics(_ piece: RowPiece) -> [Double] {
            let xs = inputs(piece)
            var partial = [Double](repeating: 0, count: sums.count)
            switch stage {
            case 0:
                for k in xs.indices { partial[k] = VectorMath.sumOfSquares(xs[k].readOnly) }
            case 1:
                for i in 0 ..< piece.count { let m = Double(mean(xs, i)); partial[0] += m * m }
            case 2:
                for i in 0 ..< piece.count {
                    let m = mean(xs, i) / meanNorm
                    for k in xs.indices { partial[k] += Double((xs[k][i] / divisors[k]) * m) }
                }
            default:
                for i in 0 ..< piece.count {
                    let t = Double(tangent(xs, i, mean(xs, i) / meanNorm))
                    partial[0] += t * t
                }
            }
            return partial
        }

        mutating func accumulate(_ partial: [Double]) {
            for k in sums.indices { sums[k] += partial[k] }
        }

        mutating func finishPass() throws(MergeError) {
            defer {
                stage += 1
                for k in sums.indices { sums[k] = 0 }
            }
            switch stage {
            case 0:
                norms = sums.map { Float($0.squareRoot()) }
                divisors = norms.map { $0 + eps }
            case 1:
                meanNorm = Float(sums[0].squareRoot())
                if meanNorm < eps {
                    guard models.count == 2 else {
                        throw .invalidInputs(method: "multislerp", tensor: tensor, reason:
                            "the weighted sum of the \(models.count) inputs is zero (antipodal inputs with balancing weights)")
                    }
                    linear = true
                }
            case 2:
                dots = sums.map { Float($0) }
            default:
                let tangentNorm = Float(sums[0].squareRoot()) + eps
                var averageNorm: Float = 0
                for (norm, w) in zip(norms, weights) { averageNorm = averageNorm + norm * w }
                finish = (Float(cos(Double(tangentNorm))), Float(sin(Double(tangentNorm))) / tangentNorm, averageNorm)
            }
        }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            if models.count == 1 {
                _ = output.update(fromContentsOf: piece.inputs[models[0]])
                return
            }
            let xs = inputs(piece)
            if linear {
                // mergekit's fallback: linear interpolation of the (task-vector) inputs.
                for i in output.indices { output[i] = xs[0][i] * weights[0] + xs[1][i] * weights[1] }
            } else if let finish {
                for i in output.indices {
                    let m = mean(xs, i) / meanNorm
                    output[i] = (m * finish.cosine + tangent(xs, i, m) * finish.sineRatio) * finish.averageNorm
                }
            }
            if let base {
                let b = piece.inputs[base]
                for i in output.indices { output[i] = output[i] + b[i] }
            }
        }
    }
}
