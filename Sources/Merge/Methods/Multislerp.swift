import Foundation

/// mergekit's `multislerp`: barycentric interpolation of any number of models on the hypersphere,
/// optionally around a base model (Goddard, "Multi-SLERP").
///
/// With the non-base inputs `x₁ … x_N` (N ≥ 1; one input is returned unchanged) and weights `wᵢ`
/// (divided by their float32 sum when `normalize_weights`), over whole tensors:
/// 1. with a base, `xᵢ ← xᵢ − base`;
/// 2. `uᵢ = xᵢ / (‖xᵢ‖ + eps)`; `m = Σ wᵢ·uᵢ`; if `‖m‖ < eps`: for N = 2 the result is
///    `w₁·x₁ + w₂·x₂` (plus the base), for more an error; else `m̂ = m / ‖m‖`;
/// 3. tangent vector `τ = Σ wᵢ·(uᵢ − ⟨uᵢ, m̂⟩·m̂)`, `|τ| = ‖τ‖ + eps`;
/// 4. `result = (m̂·cos|τ| + τ·sin|τ|/|τ|) · Σ wᵢ‖xᵢ‖`, plus the base.
///
/// Precision: norms and dot products are accumulated in double; elementwise operations are float32
/// in mergekit's order (transcendentals evaluated in double and rounded).
///
/// Parameters: per model `weight` (required, non-base inputs), global `normalize_weights` (true),
/// `eps` (1e-8). The base model is optional.
///
/// Difference: with `normalize_weights` and weights summing to exactly zero, mergekit divides by
/// zero (NaN output); this method throws instead.
public struct Multislerp: MergeMethod {
    public init() {}

    public var name: String { "multislerp" }
    public var basePolicy: BaseModelPolicy { .optional }
    public var parameters: [ParameterSpec] {
        [ParameterSpec("weight", .number, .perModel, default: nil),
         ParameterSpec("normalize_weights", .bool, .global, default: .bool(true)),
         ParameterSpec("eps", .number, .global, default: .number(1e-8))]
    }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let n = try MethodInputs.elementCount(input, output: output, method: name)
        let others = MethodInputs.nonBase(input)
        try MethodInputs.expect(others.count, 1, exactly: false, "non-base input", input: input, method: name)
        if others.count == 1 {
            _ = output.update(fromContentsOf: input.tensors[others[0]])
            return
        }
        var weights: [Float] = []
        for index in others { weights.append(Float(try MethodInputs.finite("weight", of: index, input, method: name))) }
        if input.parameters.bool("normalize_weights") {
            var sum: Float = 0
            for w in weights { sum += w }
            guard sum != 0 else {
                throw .invalidInputs(method: name, tensor: input.name,
                                     reason: "weights sum to 0: cannot normalize (set normalize_weights: false)")
            }
            weights = weights.map { $0 / sum }
        }
        let eps = Float(input.parameters.number("eps"))
        guard n > 0 else { return }

        let xs = others.map { input.tensors[$0].baseAddress! }
        let base = input.baseIndex.map { input.tensors[$0].baseAddress! }
        if let base {
            for x in xs {
                for j in 0 ..< n { x[j] = x[j] - base[j] }
            }
        }
        let norms = xs.map { Reductions.norm($0, count: n) }
        let divisors = norms.map { $0 + eps }
        let m = output.baseAddress!

        // m = Σ wᵢ·uᵢ, summed in input order.
        for j in 0 ..< n { m[j] = 0 }
        for (x, (w, d)) in zip(xs, zip(weights, divisors)) {
            for j in 0 ..< n { m[j] += (x[j] / d) * w }
        }
        let meanNorm = Reductions.norm(m, count: n)
        if meanNorm < eps {
            guard xs.count == 2 else {
                throw .invalidInputs(method: name, tensor: input.name,
                                     reason: "the weighted sum of the inputs is zero (antipodal inputs with balancing weights)")
            }
            let x0 = xs[0], x1 = xs[1], w0 = weights[0], w1 = weights[1]
            for j in 0 ..< n { m[j] = x0[j] * w0 + x1[j] * w1 }
            if let base { for j in 0 ..< n { m[j] = m[j] + base[j] } }
            return
        }
        for j in 0 ..< n { m[j] = m[j] / meanNorm }

        // ⟨uᵢ, m̂⟩ (float32, as torch's sum returns it).
        var dots: [Float] = []
        for (x, d) in zip(xs, divisors) {
            var sum = 0.0
            for j in 0 ..< n { sum += Double(x[j] / d) * Double(m[j]) }
            dots.append(Float(sum))
        }
        // τ is computed twice, elementwise the same way: once for its norm, once for the result.
        @inline(__always) func tangent(_ j: Int) -> Float {
            var sum: Float = 0
            for i in 0 ..< xs.count {
                sum += ((xs[i][j] / divisors[i]) - dots[i] * m[j]) * weights[i]
            }
            return sum
        }
        var squares = 0.0
        for j in 0 ..< n {
            let value = Double(tangent(j))
            squares += value * value
        }
        let tangentNorm = Float(squares.squareRoot()) + eps
        let cosine = Float(cos(Double(tangentNorm)))
        let scale = Float(sin(Double(tangentNorm))) / tangentNorm
        var averageNorm: Float = 0
        for (norm, w) in zip(norms, weights) { averageNorm += norm * w }
        for j in 0 ..< n {
            let value = (m[j] * cosine + tangent(j) * scale) * averageNorm
            m[j] = base.map { value + $0[j] } ?? value
        }
    }
}
