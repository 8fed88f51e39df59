import Foundation
import GGUF
import Quant

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
/// blocked) in one pass, the normalized dot taken as `x·y / (‖x‖‖y‖)` and rounded to float32 (torch
/// normalizes the copies first: the same value to float rounding); the coefficients are computed in `Double` from the float32 dot and
/// rounded to float32 (torch: float32 `acos`/`sin`), so results agree to a few float32 ulps.
public struct SLERP: MergeMethod {
    public init() {}

    public let name = "slerp"
    static let t = ParameterSpec("t", .number, .global, default: nil)
    public var parameters: [ParameterSpec] { [Self.t] }
    public var basePolicy: BaseModelPolicy { .required }

    /// `t = 0` is the base model, `t = 1` the other model, exactly.
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? {
        guard let baseIndex, modelParameters.count == 2 else { return nil }
        switch Self.t.number(in: parameters) {
        case 0: return baseIndex
        case 1: return 1 - baseIndex
        default: return nil
        }
    }

    /// mergekit's `DOT_THRESHOLD`: beyond this |cos θ| the inputs count as colinear.
    static let dotThreshold: Float = 0.9995
    /// Norms at or below this are replaced by 1 (mergekit's `eps`).
    static let eps: Float = 1e-8

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        let base = try unit.requireBase(name)
        if unit.inputCount != 2 {
            throw unit.invalid(name, "requires exactly 2 inputs (the base and one other model); got \(unit.inputCount)")
        }
        return Merge(t: Float(try unit.number(name, Self.t)), base: base, empty: unit.elementCount == 0)
    }

    /// One statistics pass (the squared norms and the dot product), then `coefA·base + coefB·other`
    /// row by row.
    struct Merge: UnitMerge {
        var t: Float
        var base: Int
        /// `Σ base²`, `Σ other²`, `Σ base·other`, as they accumulate.
        var sums = VectorMath.PairSums()
        var coefficients: (Float, Float)? = nil

        init(t: Float, base: Int, empty: Bool) {
            self.t = t
            self.base = base
            if empty { coefficients = (1 - t, t) }
        }

        var needsPass: Bool { coefficients == nil }

        func statistics(_ piece: RowPiece) -> VectorMath.PairSums {
            VectorMath.PairSums(piece.inputs[base].readOnly, piece.inputs[1 - base].readOnly)
        }

        /// From Q8_0 blocks as stored: the same terms, summed block by block (integer sums of quant
        /// products times the scales) instead of decoded.
        func statistics(stored inputs: [UnsafeRawBufferPointer], type: GGMLType) -> VectorMath.PairSums? {
            guard type == .q8_0, let x = inputs[base].baseAddress, let y = inputs[1 - base].baseAddress else { return nil }
            let (xx, yy, xy) = Q8_0.pairSums(x, y, blocks: inputs[base].count / GGMLType.q8_0.typeSize)
            return VectorMath.PairSums(xx: xx, yy: yy, xy: xy)
        }

        mutating func accumulate(_ partial: VectorMath.PairSums) { sums.add(partial) }

        mutating func finishPass() {
            var n0 = Float(sums.xx.squareRoot()), n1 = Float(sums.yy.squareRoot())
            if !(n0 > SLERP.eps) { n0 = 1 }
            if !(n1 > SLERP.eps) { n1 = 1 }
            coefficients = SLERP.coefficients(t: t, dot: min(max(sums.normalizedDot(n0, n1), -1), 1))
        }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            guard let (a, b) = coefficients else { return }
            VectorMath.combine(a, piece.inputs[base].readOnly, b, piece.inputs[1 - base].readOnly, into: output)
        }
    }

    /// The coefficients of `v0` and `v1` in mergekit's `slerp(t, v0, v1)`, from the clamped dot
    /// product of their normalized copies.
    static func coefficients(t: Float, dot: Float) -> (Float, Float) {
        if abs(dot) > dotThreshold { return (1 - t, t) }
        let theta = acos(Double(dot))
        let sinTheta = sin(theta)
        return (Float(sin(Double(1 - t) * theta) / sinTheta), Float(sin(Double(t) * theta) / sinTheta))
    }
}
