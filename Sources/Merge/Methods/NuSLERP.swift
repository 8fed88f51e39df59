import Foundation

/// mergekit's `nuslerp`: spherical interpolation between two models, weighted by their `weight`s,
/// optionally around a base model (then the task vectors `model − base` are interpolated and the base
/// added back).
///
/// Parameters: `weight` (per model, required on the two non-base models), `nuslerp_flatten` (global,
/// default true: the whole tensor is one vector), `nuslerp_row_wise` (global, default false: when not
/// flattening, interpolate each column (torch's dim 0) instead of each row). Inputs: exactly two
/// non-base models, plus the base if given (mergekit: base optional, `min_non_base = max_non_base = 2`).
/// `t = weight₂ / (weight₁ + weight₂)`, or 0.5 when that sum is below 1e-6 in magnitude.
///
/// As mergekit 0.1.5's `nuslerp` in float32: each vector is normalized by its norm clamped to ≥ 1e-7,
/// `cos θ` is the clamped dot of the normalized copies, the pair counts as colinear when
/// `1 − cos² ≤ 1e-16` (float32), and the result is `(sin((1−t)θ)·v0 + sin(tθ)·v1) / sin θ`
/// (or `(1−t)·v0 + t·v1` when colinear). Norms and dots are summed in `Double`; the trigonometry is
/// done in `Double` from the float32 `cos θ` and rounded to float32. Norms and dots come from one pass
/// (`cos θ = v0·v1 / (‖v0‖‖v1‖)`: torch normalizes the copies first, the same value to float rounding).
public struct NuSLERP: MergeMethod {
    public init() {}

    public let name = "nuslerp"
    static let weight = ParameterSpec("weight", .number, .perModel, default: nil)
    static let rowWise = ParameterSpec("nuslerp_row_wise", .bool, .global, default: .bool(false))
    static let flatten = ParameterSpec("nuslerp_flatten", .bool, .global, default: .bool(true))
    public var parameters: [ParameterSpec] { [Self.weight, Self.rowWise, Self.flatten] }
    public var basePolicy: BaseModelPolicy { .optional }

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        let models = unit.nonBaseIndices
        if models.count != 2 {
            throw unit.invalid(name, "requires exactly 2 non-base models; got \(models.count)")
        }
        let w0 = try unit.number(name, Self.weight, input: models[0])
        let w1 = try unit.number(name, Self.weight, input: models[1])
        let total = w0 + w1
        let t = abs(total) < 1e-6 ? 0.5 : w1 / total
        let rowWise = try unit.bool(name, Self.rowWise)
        let flatten = try unit.bool(name, Self.flatten)
        // The vectors: the whole tensor, each ggml row (torch's last dim), or each column (torch's
        // dim 0: one vector per position in the row).
        let mode: Merge.Mode = flatten ? .whole : (rowWise ? .columns : .rows)
        return Merge(t: t, models: (models[0], models[1]), base: unit.baseIndex, mode: mode,
                     vectors: mode == .columns ? unit.rowLength : 1)
    }

    /// One statistics pass for whole-tensor and column vectors (squared norms and dot products), none
    /// for row vectors; then `(c0·v0 + c1·v1) / divisor` (+ base).
    struct Merge: UnitMerge {
        enum Mode { case whole, rows, columns }
        var t: Double
        var models: (Int, Int)
        var base: Int?
        var mode: Mode
        /// Per vector, as they accumulate.
        var sums: [VectorMath.PairSums]
        var coefficients: Coefficients? = nil

        init(t: Double, models: (Int, Int), base: Int?, mode: Mode, vectors: Int) {
            self.t = t
            self.models = models
            self.base = base
            self.mode = mode
            sums = [VectorMath.PairSums](repeating: VectorMath.PairSums(), count: vectors)
        }

        var needsPass: Bool { mode != .rows && coefficients == nil }

        /// The two task vectors (or models) of a piece, in place.
        func vectors(_ piece: RowPiece) -> (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) {
            let v0 = piece.inputs[models.0], v1 = piece.inputs[models.1]
            if let base {
                v0.subtract(piece.inputs[base])
                v1.subtract(piece.inputs[base])
            }
            return (v0, v1)
        }

        func statistics(_ piece: RowPiece) -> [VectorMath.PairSums] {
            let (v0, v1) = vectors(piece)
            guard mode == .columns else { return [VectorMath.PairSums(v0.readOnly, v1.readOnly)] }
            var partial = sums.map { _ in VectorMath.PairSums() }
            let length = piece.rowLength
            for r in 0 ..< piece.rows.count {
                let start = r &* length
                for c in 0 ..< length {
                    let a = Double(v0[start &+ c]), b = Double(v1[start &+ c])
                    partial[c].xx += a * a
                    partial[c].yy += b * b
                    partial[c].xy += a * b
                }
            }
            return partial
        }

        mutating func accumulate(_ partial: [VectorMath.PairSums]) {
            for i in sums.indices { sums[i].add(partial[i]) }
        }

        mutating func finishPass() { coefficients = Coefficients(t: t, sums: sums) }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            let (v0, v1) = vectors(piece)
            let length = piece.rowLength
            switch mode {
            case .whole:
                guard let k = coefficients else { return }
                let (a, b, d) = (k.c0[0], k.c1[0], k.divisor[0])
                for i in output.indices { output[i] = (a * v0[i] + b * v1[i]) / d }
            case .rows:
                for r in 0 ..< piece.rows.count {
                    let range = r &* length ..< (r &+ 1) &* length
                    let sums = VectorMath.PairSums(UnsafeBufferPointer(rebasing: v0[range]), UnsafeBufferPointer(rebasing: v1[range]))
                    let k = Coefficients(t: t, sums: [sums])
                    let (a, b, d) = (k.c0[0], k.c1[0], k.divisor[0])
                    for i in range { output[i] = (a * v0[i] + b * v1[i]) / d }
                }
            case .columns:
                guard let k = coefficients else { return }
                for r in 0 ..< piece.rows.count {
                    let start = r &* length
                    for c in 0 ..< length {
                        let i = start &+ c
                        output[i] = (k.c0[c] * v0[i] + k.c1[c] * v1[i]) / k.divisor[c]
                    }
                }
            }
            if let base {
                let b = piece.inputs[base]
                for i in output.indices { output[i] = b[i] + output[i] }
            }
        }
    }

    /// `‖x‖.clamp(min: 1e-7)` in float32 from the squared norm.
    static func norm(_ squares: Double) -> Float { max(Float(squares.squareRoot()), 1e-7) }

    /// Per vector, `out = (c0·v0 + c1·v1) / divisor` (mergekit's `nuslerp(t, v0, v1)`).
    struct Coefficients {
        var c0: [Float] = [], c1: [Float] = [], divisor: [Float] = []

        /// From each vector's sums: `cos θ` is the dot of the vectors normalized by their norms
        /// clamped to ≥ 1e-7 (`x / ‖x‖.clamp(min: 1e-7)` as torch does it).
        init(t: Double, sums: [VectorMath.PairSums]) {
            let oneMinusT = Float(1 - t), tf = Float(t)
            for s in sums {
                let cosTheta = min(max(s.normalizedDot(NuSLERP.norm(s.xx), NuSLERP.norm(s.yy)), -1), 1)
                if 1 - cosTheta * cosTheta <= Float(1e-16) {
                    c0.append(oneMinusT); c1.append(tf); divisor.append(1)
                } else {
                    let theta = Float(acos(Double(cosTheta)))
                    c0.append(Float(sin(Double(theta * oneMinusT))))
                    c1.append(Float(sin(Double(theta * tf))))
                    divisor.append(Float(sin(Double(theta))))
                }
            }
        }
    }
}
