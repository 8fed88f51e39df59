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

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        let baseIndex = try unit.requireBase(name)
        if unit.inputCount != 2 {
            throw unit.invalid(name, "requires exactly 2 inputs (the base and one other model); got \(unit.inputCount)")
        }
        return Merge(t: Float(try unit.number(name, Self.t)), base: baseIndex)
    }

    /// `w·b + (1 − w)·a`, elementwise.
    struct Merge: RowLocalMerge {
        var t: Float
        var base: Int

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            let a = piece.inputs[base], b = piece.inputs[1 - base]
            for i in output.indices {
                let distance = max(abs(a[i] - b[i]), 1e-6)
                let weight = min(max((1 / distance) * t, 0), 1)
                output[i] = weight * b[i] + (1 - weight) * a[i]
            }
        }
    }
}
