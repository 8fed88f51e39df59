import Foundation

/// mergekit's `karcher`: the Karcher (Riemannian) mean of the inputs' directions on the unit
/// hypersphere, scaled by their mean norm.
///
/// Parameters: `max_iter` (global integer, default 10), `tol` (global, default 1e-5). Inputs: any
/// number ≥ 1, all with equal weight `1/n`; the base model is not special (mergekit's contract:
/// base ignored), so a listed base is averaged like any other input. One input is returned unchanged.
///
/// As mergekit 0.1.5's `karcher_merge_tensors` in float32, over each tensor as one flattened vector:
/// units `xᵢ/‖xᵢ‖` of the inputs with `‖xᵢ‖ > tol` (alphas renormalized over those), start at their
/// normalized weighted sum, then up to `max_iter` steps of `m ← cos‖τ‖·m + sin‖τ‖·τ/‖τ‖`, renormalized,
/// with `τ = Σ αᵢ·θᵢ/sin θᵢ·(uᵢ − cos θᵢ·m)` (terms with `θᵢ < tol` skipped), stopping when
/// `‖τ‖ < tol`; the result is `m · Σ (1/n)‖xᵢ‖` over all inputs. Norms and dots are summed in `Double`
/// and rounded to float32; `acos`/`sin`/`cos` are evaluated in `Double` on float32 arguments and rounded.
public struct Karcher: MergeMethod {
    public init() {}

    public let name = "karcher"
    static let maxIter = ParameterSpec("max_iter", .number, .global, default: .number(10))
    static let tol = ParameterSpec("tol", .number, .global, default: .number(1e-5))
    public var parameters: [ParameterSpec] { [Self.maxIter, Self.tol] }
    public var basePolicy: BaseModelPolicy { .ignored }

    /// Equal inputs give that input (zero task vectors, or a mean of equal points).
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        try input.checkSizes(name, output: output)
        let maxIterValue = try input.number(name, Self.maxIter)
        guard let maxIter = Int(exactly: maxIterValue) else {
            throw input.invalid(name, "`max_iter` must be an integer; got \(maxIterValue.formatted)")
        }
        let tol = try input.number(name, Self.tol)
        let xs = input.tensors
        if xs.count == 1 {
            for i in output.indices { output[i] = xs[0][i] }
            return
        }
        let alphas = [Double](repeating: 1.0 / Double(xs.count), count: xs.count)

        // Units in place (zero for a zero tensor); keep the float32 norms.
        var norms: [Float] = []
        for x in xs {
            let norm = VectorMath.norm(x.readOnly)
            norms.append(norm)
            if norm == 0 {
                for i in x.indices { x[i] = 0 }
            } else {
                for i in x.indices { x[i] = x[i] / norm }
            }
        }
        let valid = xs.indices.filter { Double(norms[$0]) > tol }
        guard !valid.isEmpty else {
            // mergekit: `sum(tensor * 0)`: zeros (NaN where an input was not finite).
            for i in output.indices { output[i] = 0 }
            for x in xs { for i in x.indices { output[i] = output[i] + x[i] * 0 } }
            return
        }
        let validSum = valid.reduce(0.0) { $0 + alphas[$1] }
        let weights = valid.map { Float(alphas[$0] / validSum) }
        let units = valid.map { xs[$0] }

        // The starting point: the normalized weighted sum of the units, in `output`.
        let mean = output
        for i in mean.indices { mean[i] = 0 }
        for (unit, w) in zip(units, weights) {
            for i in mean.indices { mean[i] = mean[i] + w * unit[i] }
        }
        let meanNorm = VectorMath.norm(mean.readOnly)
        if Double(meanNorm) < tol {
            for i in mean.indices { mean[i] = units[0][i] }
        } else {
            for i in mean.indices { mean[i] = mean[i] / meanNorm }
        }

        var tangentStorage = [Float](repeating: 0, count: output.count)
        tangentStorage.withUnsafeMutableBufferPointer { tangent in
            for _ in 0 ..< max(maxIter, 0) {
                for i in tangent.indices { tangent[i] = 0 }
                for (unit, w) in zip(units, weights) {
                    let dot = min(max(Float(VectorMath.dot(mean.readOnly, unit.readOnly)), -1), 1)
                    let theta = Float(acos(Double(dot)))
                    if Double(theta) < tol { continue }
                    let coefficient = w * (theta / Float(sin(Double(theta))))
                    for i in tangent.indices {
                        tangent[i] = tangent[i] + coefficient * (unit[i] - dot * mean[i])
                    }
                }
                let tangentNorm = VectorMath.norm(tangent.readOnly)
                if Double(tangentNorm) < tol { break }
                let c = Float(cos(Double(tangentNorm))), s = Float(sin(Double(tangentNorm)))
                for i in mean.indices {
                    mean[i] = c * mean[i] + s * (tangent[i] / tangentNorm)
                }
                let unitNorm = VectorMath.norm(mean.readOnly)
                if Double(unitNorm) > tol {
                    for i in mean.indices { mean[i] = mean[i] / unitNorm }
                }
            }
        }

        var scale: Float = 0
        for (alpha, norm) in zip(alphas, norms) { scale = scale + Float(alpha) * norm }
        for i in output.indices { output[i] = scale * mean[i] }
    }
}
