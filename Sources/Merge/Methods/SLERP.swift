import Foundation

/// mergekit's `slerp`: spherical interpolation between the base model (`t = 0`) and the other model
/// (`t = 1`), over each tensor as one flattened vector.
///
/// Parameters: `t` (global, required). Inputs: exactly two, one of them the base (mergekit's contract:
/// base required, `min_inputs = max_inputs = 2`).
///
/// As mergekit 0.1.5's `slerp`: the norms (`‖·‖ ≤ 1e-8` counts as 1) normalize float32 copies whose
/// dot product, clamped to [-1, 1], gives θ; when `|dot| > 0.9995` the coefficients are those of linear
/// interpolation, `1 − t` and `t`; otherwise `sin((1−t)θ)/sin θ` and `sin(tθ)/sin θ`. The output is
/// `coefA·base + coefB·other` in float32. Norms and the dot product are summed in `Double` (torch: float32,
/// blocked) and rounded to float32; the coefficients are computed in `Double` from the float32 dot and
/// rounded to float32 (torch: float32 `acos`/`sin`), so results agree to a few float32 ulps.
public struct SLERP: MergeMethod {
    public init() {}

    public let name = "slerp"
    static let t = ParameterSpec("t", .number, .global, default: nil)
    public var parameters: [ParameterSpec] { [Self.t] }
    public var basePolicy: BaseModelPolicy { .required }

    /// Equal inputs give that input (zero task vectors, or a mean of equal points).
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    /// `t = 0` is the base model, `t = 1` the other model, exactly.
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? {
        guard let baseIndex, modelParameters.count == 2 else { return nil }
        switch parameters.number("t") {
        case 0: return baseIndex
        case 1: return 1 - baseIndex
        default: return nil
        }
    }

    /// mergekit's `DOT_THRESHOLD`: beyond this |cos θ| the inputs count as colinear.
    static let dotThreshold: Float = 0.9995
    /// Norms at or below this are replaced by 1 (mergekit's `eps`).
    static let eps: Float = 1e-8

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        try input.checkSizes(name, output: output)
        guard let base = input.baseIndex else { throw input.invalid(name, "requires a base model") }
        if input.tensors.count != 2 {
            throw input.invalid(name, "requires exactly 2 inputs (the base and one other model); got \(input.tensors.count)")
        }
        let t = Float(try input.number(name, Self.t))
        let (coefA, coefB) = Self.coefficients(t: t, input.tensors[base].readOnly, input.tensors[1 - base].readOnly,
                                               threads: input.threads)
        VectorMath.combine(coefA, input.tensors[base].readOnly, coefB, input.tensors[1 - base].readOnly, into: output,
                           threads: input.threads)
    }

    /// The coefficients of `v0` and `v1` in mergekit's `slerp(t, v0, v1)`.
    static func coefficients(t: Float, _ v0: UnsafeBufferPointer<Float>, _ v1: UnsafeBufferPointer<Float>,
                             threads: Int = 1) -> (Float, Float) {
        if v0.isEmpty { return (1 - t, t) }
        var norm0 = VectorMath.norm(v0, threads: threads), norm1 = VectorMath.norm(v1, threads: threads)
        if !(norm0 > eps) { norm0 = 1 }
        if !(norm1 > eps) { norm1 = 1 }
        let dot = min(max(Float(VectorMath.normalizedDot(v0, norm0, v1, norm1, threads: threads)), -1), 1)
        if abs(dot) > dotThreshold { return (1 - t, t) }
        let theta = acos(Double(dot))
        let sinTheta = sin(theta)
        let tt = Double(t)
        return (Float(sin(Double(1 - t) * theta) / sinTheta), Float(sin(tt * theta) / sinTheta))
    }
}
