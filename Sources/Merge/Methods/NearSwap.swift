/// mergekit's `nearswap`: takes the other model's value where it is close to the base model's,
/// interpolating by `t / |base − other|`.
///
/// Parameters: `t` (global, required). Inputs: exactly two, one the base (mergekit's contract: base
/// required, `min_inputs = max_inputs = 2`).
///
/// As mergekit 0.1.5's `nearswap_merge` in float32: `w = clamp(t / max(|a − b|, 1e-6), 0, 1)`, where
/// torch evaluates `t / x` as `reciprocal(x) · t`, and the result is `w·b + (1 − w)·a` with `a` the base.
/// Exact up to float32 rounding of the same operations.
public struct NearSwap: MergeMethod {
    public init() {}

    public let name = "nearswap"
    static let t = ParameterSpec("t", .number, .global, default: nil)
    public var parameters: [ParameterSpec] { [Self.t] }
    public var basePolicy: BaseModelPolicy { .required }

    /// Equal inputs give that input (zero task vectors, or a mean of equal points).
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        try input.checkSizes(name, output: output)
        guard let baseIndex = input.baseIndex else { throw input.invalid(name, "requires a base model") }
        if input.tensors.count != 2 {
            throw input.invalid(name, "requires exactly 2 inputs (the base and one other model); got \(input.tensors.count)")
        }
        let t = Float(try input.number(name, Self.t))
        let a = input.tensors[baseIndex], b = input.tensors[1 - baseIndex]
        for i in output.indices {
            let distance = max(abs(a[i] - b[i]), 1e-6)
            let weight = min(max((1 / distance) * t, 0), 1)
            output[i] = weight * b[i] + (1 - weight) * a[i]
        }
    }
}
