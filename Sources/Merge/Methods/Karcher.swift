import Foundation

/// mergekit's `karcher`: the equally weighted Karcher (Riemannian) mean of the inputs on the unit
/// hypersphere, scaled by their mean norm.
///
/// With all inputs `x₁ … x_N` (a base model listed among the models is one more input; one input is
/// returned unchanged), `α = 1/N`, over whole tensors:
/// 1. `uᵢ = xᵢ/‖xᵢ‖` (0 when ‖xᵢ‖ = 0); the valid inputs are those with `‖xᵢ‖ > tol` (none: the
///    result is 0), their weights `αᵢ` renormalized to sum to 1;
/// 2. `m = Σ αᵢuᵢ / ‖Σ αᵢuᵢ‖` (the first valid `uᵢ` when that norm is below `tol`);
/// 3. up to `max_iter` times: `τ = Σ αᵢ·θᵢ/sin θᵢ·(uᵢ − cos θᵢ·m)` over the inputs with
///    `θᵢ = acos⟨m, uᵢ⟩ ≥ tol`; stop when `‖τ‖ < tol`; `m ← cos‖τ‖·m + sin‖τ‖·τ/‖τ‖`, renormalized
///    when its norm exceeds `tol`;
/// 4. `result = (Σᵢ α·‖xᵢ‖)·m` (all inputs, valid or not).
///
/// Precision: norms and dot products are accumulated in double; elementwise operations are float32
/// in mergekit's order (transcendentals evaluated in double and rounded).
///
/// Parameters: global `max_iter` (10; a whole number ≥ 0), `tol` (1e-5). The base model is not
/// treated specially.
public struct Karcher: MergeMethod {
    public init() {}

    public var name: String { "karcher" }
    public var basePolicy: BaseModelPolicy { .ignored }
    public var parameters: [ParameterSpec] {
        [ParameterSpec("max_iter", .number, .global, default: .number(10)),
         ParameterSpec("tol", .number, .global, default: .number(1e-5))]
    }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let n = try MethodInputs.elementCount(input, output: output, method: name)
        let iterations = input.parameters.number("max_iter")
        guard iterations >= 0, iterations == iterations.rounded(), iterations < 1e6 else {
            throw .invalidInputs(method: name, tensor: input.name,
                                 reason: "max_iter must be a whole number ≥ 0, got \(iterations.formatted)")
        }
        let tol = input.parameters.number("tol")
        let count = input.tensors.count
        if count == 1 {
            _ = output.update(fromContentsOf: input.tensors[0])
            return
        }
        guard n > 0 else { return }

        let alpha = 1.0 / Double(count)
        // Units in place: uᵢ = xᵢ/‖xᵢ‖ in float32, zero for a zero tensor.
        var norms: [Float] = []
        for tensor in input.tensors {
            let x = tensor.baseAddress!
            let norm = Reductions.norm(x, count: n)
            norms.append(norm)
            if norm == 0 {
                for j in 0 ..< n { x[j] = 0 }
            } else {
                for j in 0 ..< n { x[j] = x[j] / norm }
            }
        }
        let valid = input.tensors.indices.filter { Double(norms[$0]) > tol }
        let mean = output.baseAddress!
        guard !valid.isEmpty else {
            for j in 0 ..< n { mean[j] = 0 }
            return
        }
        let alphaSum = valid.reduce(0.0) { sum, _ in sum + alpha }
        let alphas = valid.map { _ in Float(alpha / alphaSum) }
        let units = valid.map { input.tensors[$0].baseAddress! }

        for j in 0 ..< n { mean[j] = 0 }
        for (a, u) in zip(alphas, units) {
            for j in 0 ..< n { mean[j] = mean[j] + a * u[j] }
        }
        let meanNorm = Reductions.norm(mean, count: n)
        if Double(meanNorm) < tol {
            for j in 0 ..< n { mean[j] = units[0][j] }
        } else {
            for j in 0 ..< n { mean[j] = mean[j] / meanNorm }
        }

        var tangentStorage = [Float](repeating: 0, count: n)
        tangentStorage.withUnsafeMutableBufferPointer { storage in
            let tangent = storage.baseAddress!
            for _ in 0 ..< Int(iterations) {
                for j in 0 ..< n { tangent[j] = 0 }
                for (a, u) in zip(alphas, units) {
                    let dot = min(max(Float(Reductions.dot(mean, u, count: n)), -1), 1)
                    let theta = Float(acos(Double(dot)))
                    if Double(theta) < tol { continue }
                    let c = a * (theta / Float(sin(Double(theta))))
                    for j in 0 ..< n { tangent[j] += c * (u[j] - dot * mean[j]) }
                }
                let tangentNorm = Reductions.norm(tangent, count: n)
                if Double(tangentNorm) < tol { break }
                let cosine = Float(cos(Double(tangentNorm))), sine = Float(sin(Double(tangentNorm)))
                for j in 0 ..< n { mean[j] = cosine * mean[j] + sine * (tangent[j] / tangentNorm) }
                let unitNorm = Reductions.norm(mean, count: n)
                if Double(unitNorm) > tol {
                    for j in 0 ..< n { mean[j] = mean[j] / unitNorm }
                }
            }
        }
        // scale = Σ α·‖xᵢ‖ over every input, a float32 sum in input order.
        var scale: Float = 0
        for norm in norms { scale += Float(alpha) * norm }
        for j in 0 ..< n { mean[j] = scale * mean[j] }
    }
}
