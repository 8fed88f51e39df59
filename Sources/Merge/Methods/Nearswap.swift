/// mergekit's `nearswap`: takes the other model's value where it is near the base's, the base's
/// where they differ (alchemonaut's NearSwap).
///
/// Elementwise with base `a` and the other input `b`, in float32 as mergekit:
/// `w = clamp(t / max(|a − b|, 1e-6), 0, 1)`, `result = w·b + (1 − w)·a`.
///
/// Parameters: global `t` (required). Requires a base model and exactly one other input.
public struct Nearswap: MergeMethod {
    public init() {}

    public var name: String { "nearswap" }
    public var basePolicy: BaseModelPolicy { .required }
    public var parameters: [ParameterSpec] { [ParameterSpec("t", .number, .global, default: nil)] }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let n = try MethodInputs.elementCount(input, output: output, method: name)
        let baseIndex = try MethodInputs.requiredBase(input, method: name)
        try MethodInputs.expect(input.tensors.count, 2, "inputs (the base and one other)", input: input, method: name)
        guard n > 0 else { return }
        let t = Float(input.parameters.number("t"))
        let a = input.tensors[baseIndex].baseAddress!, b = input.tensors[1 - baseIndex].baseAddress!
        let out = output.baseAddress!
        for j in 0 ..< n {
            let difference = abs(a[j] - b[j])
            let w = min(max(t / max(difference, 1e-6), 0), 1)
            out[j] = w * b[j] + (1 - w) * a[j]
        }
    }
}
