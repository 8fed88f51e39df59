import Foundation

/// mergekit's `slerp`: spherical linear interpolation from the base model to the other input, over
/// the whole tensor.
///
/// With `a` the base and `b` the other input (mergekit's `slerp(t, v0 = base, v1 = other)`):
/// 1. `‖a‖`, `‖b‖` over the whole tensor (a norm ≤ 1e-8 becomes 1);
/// 2. `dot = ⟨a/‖a‖, b/‖b‖⟩`, clamped to [−1, 1];
/// 3. if `|dot| > 0.9995` (colinear or antipodal): `result = (1 − t)·a + t·b`;
///    else `θ = acos(dot)`, `result = sin((1 − t)θ)/sin θ · a + sin(tθ)/sin θ · b`.
/// The inputs are never normalized in place: the geometry uses normalized copies, the result
/// interpolates the original tensors. `t = 0` gives the base and `t = 1` the other input exactly
/// (the coefficients are then exactly 1 and 0).
///
/// Precision: the norms and the dot product are accumulated in double (mergekit: float32 torch
/// reductions); `t`, `1 − t`, `θ`, the coefficients and the final `coef_a·a + coef_b·b` are float32
/// as in mergekit, with the transcendental functions evaluated in double and rounded.
///
/// Parameters: global `t` (required). Requires a base model and exactly one other input.
public struct Slerp: MergeMethod {
    public init() {}

    public var name: String { "slerp" }
    public var basePolicy: BaseModelPolicy { .required }
    public var parameters: [ParameterSpec] { [ParameterSpec("t", .number, .global, default: nil)] }

    /// `t = 0` is the base model, `t = 1` the other model, exactly.
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? {
        guard let baseIndex, modelParameters.count == 2 else { return nil }
        switch parameters.number("t") {
        case 0: return baseIndex
        case 1: return 1 - baseIndex
        default: return nil
        }
    }

    /// mergekit's `dot_threshold`: above it (in absolute value) the inputs count as colinear.
    static let dotThreshold: Float = 0.9995
    /// mergekit's `eps`: norms at or below it are replaced by 1.
    static let eps: Float = 1e-8

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let n = try MethodInputs.elementCount(input, output: output, method: name)
        let baseIndex = try MethodInputs.requiredBase(input, method: name)
        try MethodInputs.expect(input.tensors.count, 2, "inputs (the base and one other)", input: input, method: name)
        let t = Float(input.parameters.number("t"))
        guard n > 0 else { return }
        let a = input.tensors[baseIndex].baseAddress!, b = input.tensors[1 - baseIndex].baseAddress!
        let (ca, cb) = Self.coefficients(t: t, a: a, b: b, count: n)
        let out = output.baseAddress!
        for j in 0 ..< n { out[j] = ca * a[j] + cb * b[j] }
    }

    /// The interpolation coefficients `(coef_a, coef_b)` of mergekit's `slerp` for `a` and `b`.
    static func coefficients(t: Float, a: UnsafePointer<Float>, b: UnsafePointer<Float>, count: Int) -> (Float, Float) {
        var normA = Reductions.norm(a, count: count), normB = Reductions.norm(b, count: count)
        if !(normA > eps) { normA = 1 }
        if !(normB > eps) { normB = 1 }
        let raw = Reductions.dot(a, b, count: count) / (Double(normA) * Double(normB))
        let dot = min(max(Float(raw), -1), 1)
        let oneMinusT: Float = 1 - t
        if abs(dot) > dotThreshold { return (oneMinusT, t) }
        let theta = Float(acos(Double(dot)))
        let sinTheta = Float(sin(Double(theta)))
        return (Float(sin(Double(oneMinusT * theta))) / sinTheta, Float(sin(Double(t * theta))) / sinTheta)
    }
}
