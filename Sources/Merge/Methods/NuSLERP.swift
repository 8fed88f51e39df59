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
/// done in `Double` from the float32 `cos θ` and rounded to float32.
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

    /// Statistics passes for whole-tensor and column vectors (squared norms, then dots of the
    /// normalized vectors), none for row vectors; then `(c0·v0 + c1·v1) / divisor` (+ base).
    struct Merge: UnitMerge {
        enum Mode { case whole, rows, columns }
        var t: Double
        var models: (Int, Int)
        var base: Int?
        var mode: Mode
        /// Per vector: the squared norms, then the dot products, as they accumulate.
        var sums: [Double]
        var norms: ([Float], [Float])? = nil
        var coefficients: Coefficients? = nil

        init(t: Double, models: (Int, Int), base: Int?, mode: Mode, vectors: Int) {
            self.t = t
            self.models = models
            self.base = base
            self.mode = mode
            sums = [Double](repeating: 0, count: 2 * vectors)
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

        func statistics(_ piece: RowPiece) -> [Double] {
            let (v0, v1) = vectors(piece)
            var partial = [Double](repeating: 0, count: sums.count)
            let length = piece.rowLength
            switch (mode, norms) {
            case let (.whole, norms?):
                partial[0] = VectorMath.normalizedDot(v0.readOnly, norms.0[0], v1.readOnly, norms.1[0])
            case (.whole, nil):
                partial[0] = VectorMath.sumOfSquares(v0.readOnly)
                partial[1] = VectorMath.sumOfSquares(v1.readOnly)
            case let (.columns, norms?):
                for r in 0 ..< piece.rows.count {
                    let start = r &* length
                    for c in 0 ..< length {
                        partial[c] += Double((v0[start &+ c] / norms.0[c]) * (v1[start &+ c] / norms.1[c]))
                    }
                }
            case (.columns, nil):
                for r in 0 ..< piece.rows.count {
                    let start = r &* length
                    for c in 0 ..< length {
                        let a = Double(v0[start &+ c]), b = Double(v1[start &+ c])
                        partial[c] += a * a
                        partial[length &+ c] += b * b
                    }
                }
            case (.rows, _):
                break
            }
            return partial
        }

        mutating func accumulate(_ partial: [Double]) {
            for i in sums.indices { sums[i] += partial[i] }
        }

        mutating func finishPass() {
            let vectors = sums.count / 2
            guard norms != nil else {
                // `x / ‖x‖.clamp(min: 1e-7)` as torch does it, in float32.
                norms = (sums[0 ..< vectors].map { NuSLERP.norm($0) }, sums[vectors...].map { NuSLERP.norm($0) })
                sums = [Double](repeating: 0, count: sums.count)
                return
            }
            coefficients = Coefficients(t: t, dots: Array(sums[0 ..< vectors]))
        }

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
                    let x = UnsafeBufferPointer(rebasing: v0[range]), y = UnsafeBufferPointer(rebasing: v1[range])
                    let n0 = NuSLERP.norm(VectorMath.sumOfSquares(x)), n1 = NuSLERP.norm(VectorMath.sumOfSquares(y))
                    let k = Coefficients(t: t, dots: [VectorMath.normalizedDot(x, n0, y, n1)])
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

        init(t: Double, dots: [Double]) {
            let oneMinusT = Float(1 - t), tf = Float(t)
            for dot in dots {
                let cosTheta = min(max(Float(dot), -1), 1)
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
