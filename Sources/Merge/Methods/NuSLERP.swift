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

    /// Equal inputs give that input (zero task vectors, or a mean of equal points).
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        try input.checkSizes(name, output: output)
        let models = input.nonBaseIndices
        if models.count != 2 {
            throw input.invalid(name, "requires exactly 2 non-base models; got \(models.count)")
        }
        let w0 = try input.number(name, Self.weight, input: models[0])
        let w1 = try input.number(name, Self.weight, input: models[1])
        let total = w0 + w1
        let t = abs(total) < 1e-6 ? 0.5 : w1 / total
        let rowWise = try input.bool(name, Self.rowWise)
        let flatten = try input.bool(name, Self.flatten)

        let v0 = input.tensors[models[0]], v1 = input.tensors[models[1]]
        if let base = input.baseIndex {
            let b = input.tensors[base]
            for i in v0.indices {
                v0[i] = v0[i] - b[i]
                v1[i] = v1[i] - b[i]
            }
        }
        // The vectors: the whole tensor, each ggml row (torch's last dim), or each column (torch's
        // dim 0, i.e. ggml's outermost dim: elements `count / shape.last` apart).
        let layout: Layout
        if flatten {
            layout = Layout(rows: 1, rowLength: output.count, mode: .whole)
        } else if rowWise {
            let outer = input.shape.last ?? 1
            layout = Layout(rows: outer, rowLength: outer == 0 ? 0 : output.count / outer, mode: .columns)
        } else {
            let rowLength = input.rowLength
            layout = Layout(rows: rowLength == 0 ? 0 : output.count / rowLength, rowLength: rowLength, mode: .rows)
        }
        Self.interpolate(t: t, v0.readOnly, v1.readOnly, layout: layout, into: output)
        if let base = input.baseIndex {
            let b = input.tensors[base]
            for i in output.indices { output[i] = b[i] + output[i] }
        }
    }

    /// How a tensor of `rows × rowLength` elements (row-major) splits into interpolated vectors.
    struct Layout {
        enum Mode { case whole, rows, columns }
        var rows: Int
        var rowLength: Int
        var mode: Mode
        var vectorCount: Int {
            switch mode {
            case .whole: 1
            case .rows: rows
            case .columns: rowLength
            }
        }
    }

    /// mergekit's `nuslerp(t, v0, v1)` over the vectors of `layout`.
    static func interpolate(t: Double, _ v0: UnsafeBufferPointer<Float>, _ v1: UnsafeBufferPointer<Float>,
                            layout: Layout, into output: UnsafeMutableBufferPointer<Float>) {
        let vectors = layout.vectorCount
        let (rows, length) = (layout.rows, layout.rowLength)
        // Pass 1: squared norms.
        var sq0 = [Double](repeating: 0, count: vectors), sq1 = sq0
        switch layout.mode {
        case .whole:
            sq0[0] = VectorMath.sumOfSquares(v0)
            sq1[0] = VectorMath.sumOfSquares(v1)
        case .rows:
            for r in 0 ..< rows {
                let range = r &* length ..< (r &+ 1) &* length
                sq0[r] = VectorMath.sumOfSquares(UnsafeBufferPointer(rebasing: v0[range]))
                sq1[r] = VectorMath.sumOfSquares(UnsafeBufferPointer(rebasing: v1[range]))
            }
        case .columns:
            for r in 0 ..< rows {
                let start = r &* length
                for c in 0 ..< length {
                    let a = Double(v0[start &+ c]), b = Double(v1[start &+ c])
                    sq0[c] += a * a
                    sq1[c] += b * b
                }
            }
        }
        // `x / ‖x‖.clamp(min: 1e-7)` as torch does it, in float32.
        let n0 = sq0.map { max(Float($0.squareRoot()), 1e-7) }
        let n1 = sq1.map { max(Float($0.squareRoot()), 1e-7) }
        // Pass 2: dot products of the normalized copies.
        var dots = [Double](repeating: 0, count: vectors)
        switch layout.mode {
        case .whole:
            dots[0] = VectorMath.normalizedDot(v0, n0[0], v1, n1[0])
        case .rows:
            for r in 0 ..< rows {
                let range = r &* length ..< (r &+ 1) &* length
                dots[r] = VectorMath.normalizedDot(UnsafeBufferPointer(rebasing: v0[range]), n0[r],
                                                   UnsafeBufferPointer(rebasing: v1[range]), n1[r])
            }
        case .columns:
            for r in 0 ..< rows {
                let start = r &* length
                for c in 0 ..< length {
                    dots[c] += Double((v0[start &+ c] / n0[c]) * (v1[start &+ c] / n1[c]))
                }
            }
        }
        // Per-vector coefficients: out = (c0·v0 + c1·v1) / divisor.
        var c0 = [Float](repeating: 0, count: vectors), c1 = c0, divisor = c0
        let oneMinusT = Float(1 - t), tf = Float(t)
        for v in 0 ..< vectors {
            let cosTheta = min(max(Float(dots[v]), -1), 1)
            if 1 - cosTheta * cosTheta <= Float(1e-16) {
                (c0[v], c1[v], divisor[v]) = (oneMinusT, tf, 1)
            } else {
                let theta = Float(acos(Double(cosTheta)))
                c0[v] = Float(sin(Double(theta * oneMinusT)))
                c1[v] = Float(sin(Double(theta * tf)))
                divisor[v] = Float(sin(Double(theta)))
            }
        }
        // Pass 3: combine.
        switch layout.mode {
        case .whole:
            let (a, b, d) = (c0[0], c1[0], divisor[0])
            for i in output.indices { output[i] = (a * v0[i] + b * v1[i]) / d }
        case .rows:
            for r in 0 ..< rows {
                let (a, b, d) = (c0[r], c1[r], divisor[r])
                let start = r &* length
                for i in start ..< start &+ length { output[i] = (a * v0[i] + b * v1[i]) / d }
            }
        case .columns:
            c0.withUnsafeBufferPointer { c0 in
                c1.withUnsafeBufferPointer { c1 in
                    divisor.withUnsafeBufferPointer { divisor in
                        for r in 0 ..< rows {
                            let start = r &* length
                            for c in 0 ..< length {
                                let i = start &+ c
                                output[i] = (c0[c] * v0[i] + c1[c] * v1[i]) / divisor[c]
                            }
                        }
                    }
                }
            }
        }
    }
}
