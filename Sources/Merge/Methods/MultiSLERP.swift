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

    /// Equal inputs give that input (zero task vectors, or a mean of equal points).
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        try input.checkSizes(name, output: output)
        let models = input.nonBaseIndices
        if models.isEmpty { throw input.invalid(name, "requires at least 1 non-base model; got 0") }
        if models.count == 1 {
            let only = input.tensors[models[0]]
            for i in output.indices { output[i] = only[i] }
            return
        }
        var weights: [Float] = []
        for index in models { weights.append(Float(try input.number(name, Self.weight, input: index))) }
        if try input.bool(name, Self.normalizeWeights) {
            var sum: Float = 0
            for w in weights { sum += w }
            weights = weights.map { $0 / sum }
        }
        let eps = Float(try input.number(name, Self.eps))
        let xs = models.map { input.tensors[$0] }
        let base = input.baseIndex.map { input.tensors[$0] }
        if let base {
            for x in xs { for i in x.indices { x[i] = x[i] - base[i] } }
        }

        // Units `x / (‖x‖ + eps)`, recomputed where needed (the inputs stay task vectors for the
        // fallback).
        let norms = xs.map { VectorMath.norm($0.readOnly) }
        let divisors = norms.map { $0 + eps }
        // Weighted mean of the units, into `output`.
        for i in output.indices {
            var sum: Float = 0
            for k in xs.indices { sum = sum + (xs[k][i] / divisors[k]) * weights[k] }
            output[i] = sum
        }
        let meanNorm = VectorMath.norm(output.readOnly)
        if meanNorm < eps {
            guard xs.count == 2 else {
                throw input.invalid(name, "the weighted sum of the \(xs.count) inputs is zero (antipodal inputs with balancing weights)")
            }
            // mergekit's fallback: linear interpolation of the (task-vector) inputs.
            for i in output.indices { output[i] = xs[0][i] * weights[0] + xs[1][i] * weights[1] }
            if let base { for i in output.indices { output[i] = output[i] + base[i] } }
            return
        }
        for i in output.indices { output[i] = output[i] / meanNorm }
        let dots = xs.indices.map { Float(VectorMath.normalizedDot(xs[$0].readOnly, divisors[$0], output.readOnly, 1)) }
        // Weighted sum of the tangents, into a scratch buffer.
        var tangent = [Float](repeating: 0, count: output.count)
        var tangentSquares = 0.0
        tangent.withUnsafeMutableBufferPointer { tangent in
            for i in output.indices {
                let m = output[i]
                var sum: Float = 0
                for k in xs.indices { sum = sum + (xs[k][i] / divisors[k] - dots[k] * m) * weights[k] }
                tangent[i] = sum
            }
            tangentSquares = VectorMath.sumOfSquares(tangent.readOnly)
        }
        let tangentNorm = Float(tangentSquares.squareRoot()) + eps
        let cosine = Float(cos(Double(tangentNorm)))
        let sineRatio = Float(sin(Double(tangentNorm))) / tangentNorm
        var averageNorm: Float = 0
        for (norm, w) in zip(norms, weights) { averageNorm = averageNorm + norm * w }
        for i in output.indices {
            output[i] = (output[i] * cosine + tangent[i] * sineRatio) * averageNorm
        }
        if let base { for i in output.indices { output[i] = output[i] + base[i] } }
    }
}
