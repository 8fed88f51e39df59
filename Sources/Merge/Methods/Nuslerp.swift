import Foundation

/// mergekit's `nuslerp`: spherical interpolation between two models, weighted, optionally around a
/// base model and optionally per row or per column.
///
/// With `v0`, `v1` the two non-base inputs in input order and weights `w0`, `w1`:
/// `t = w1 / (w0 + w1)` (0.5 when `|w0 + w1| < 1e-6`). With a base, `v0`, `v1` are first replaced by
/// their task vectors `vᵢ − base` and the base is added back to the result. Then for each vector
/// (the whole tensor when `nuslerp_flatten`, else each row — mergekit's last dimension, a ggml row —
/// or, with `nuslerp_row_wise`, each column — mergekit's first dimension):
/// `cos θ = ⟨v0/max(‖v0‖, 1e-7), v1/max(‖v1‖, 1e-7)⟩` clamped to [−1, 1]; if `1 − cos²θ ≤ 1e-16`
/// (colinear) `(1 − t)·v0 + t·v1`, else `(sin((1 − t)θ)·v0 + sin(tθ)·v1) / sin θ` on the unnormalized
/// vectors.
///
/// Precision: norms and dot products are accumulated in double; `cos θ`, `θ`, the sines and every
/// elementwise operation are float32 in mergekit's order (transcendentals evaluated in double and
/// rounded).
///
/// Parameters: per model `weight` (required, non-base inputs only), global `nuslerp_flatten` (true),
/// `nuslerp_row_wise` (false). The base model is optional; exactly two other inputs are required.
public struct Nuslerp: MergeMethod {
    public init() {}

    public var name: String { "nuslerp" }
    public var basePolicy: BaseModelPolicy { .optional }
    public var parameters: [ParameterSpec] {
        [ParameterSpec("weight", .number, .perModel, default: nil),
         ParameterSpec("nuslerp_row_wise", .bool, .global, default: .bool(false)),
         ParameterSpec("nuslerp_flatten", .bool, .global, default: .bool(true))]
    }

    /// One vector's coefficients: `(a·v0 + b·v1) / divisor` (divisor 1 for the colinear case).
    struct Coefficients {
        var a: Float, b: Float, divisor: Float, colinear: Bool
    }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let n = try MethodInputs.elementCount(input, output: output, method: name)
        let others = MethodInputs.nonBase(input)
        try MethodInputs.expect(others.count, 2, "non-base inputs", input: input, method: name)
        let w0 = try MethodInputs.finite("weight", of: others[0], input, method: name)
        let w1 = try MethodInputs.finite("weight", of: others[1], input, method: name)
        let total = w0 + w1
        let t = abs(total) < 1e-6 ? 0.5 : w1 / total
        guard n > 0 else { return }

        let v0 = input.tensors[others[0]].baseAddress!, v1 = input.tensors[others[1]].baseAddress!
        let base = input.baseIndex.map { input.tensors[$0].baseAddress! }
        if let base {
            for j in 0 ..< n {
                v0[j] = v0[j] - base[j]
                v1[j] = v1[j] - base[j]
            }
        }
        let out = output.baseAddress!
        if input.parameters.bool("nuslerp_flatten") {
            Self.interpolate(v0, v1, count: n, t: t, into: out)
        } else if !input.parameters.bool("nuslerp_row_wise") {
            // dim = −1: each ggml row.
            let length = input.rowLength
            guard length > 0 else { return }
            var row = 0
            while row < n {
                Self.interpolate(v0 + row, v1 + row, count: length, t: t, into: out + row)
                row += length
            }
        } else {
            // dim = 0: vectors along mergekit's first dimension (ggml's last), one per position in
            // the other dimensions: element `o + k·stride` for k in 0 ..< length.
            let length = input.shape.last ?? n
            guard length > 0 else { return }
            Self.interpolateColumns(v0, v1, length: length, stride: n / length, t: t, into: out)
        }
        if let base {
            for j in 0 ..< n { out[j] = base[j] + out[j] }
        }
    }

    /// mergekit's `nuslerp` coefficients from a vector pair's `‖v0‖²`, `‖v1‖²` and `⟨v0, v1⟩`.
    static func coefficients(t: Double, squares0: Double, squares1: Double, dot: Double) -> Coefficients {
        let norm0 = max(Float(squares0.squareRoot()), 1e-7), norm1 = max(Float(squares1.squareRoot()), 1e-7)
        let cosine = min(max(Float(dot / (Double(norm0) * Double(norm1))), -1), 1)
        if 1 - cosine * cosine <= Float(1e-16) {
            return Coefficients(a: Float(1 - t), b: Float(t), divisor: 1, colinear: true)
        }
        let theta = Float(acos(Double(cosine)))
        return Coefficients(a: Float(sin(Double(Float(1 - t) * theta))), b: Float(sin(Double(Float(t) * theta))),
                            divisor: Float(sin(Double(theta))), colinear: false)
    }

    /// Interpolates one contiguous vector pair.
    static func interpolate(_ v0: UnsafePointer<Float>, _ v1: UnsafePointer<Float>, count: Int, t: Double,
                            into out: UnsafeMutablePointer<Float>) {
        let c = coefficients(t: t, squares0: Reductions.sumOfSquares(v0, count: count),
                             squares1: Reductions.sumOfSquares(v1, count: count),
                             dot: Reductions.dot(v0, v1, count: count))
        let a = c.a, b = c.b, d = c.divisor
        if c.colinear {
            for j in 0 ..< count { out[j] = a * v0[j] + b * v1[j] }
        } else {
            for j in 0 ..< count { out[j] = (a * v0[j] + b * v1[j]) / d }
        }
    }

    /// Interpolates the `stride` strided vectors `v[o + k·stride]`, k in 0 ..< length.
    static func interpolateColumns(_ v0: UnsafePointer<Float>, _ v1: UnsafePointer<Float>, length: Int, stride: Int,
                                   t: Double, into out: UnsafeMutablePointer<Float>) {
        var sums = [Double](repeating: 0, count: 3 * stride)
        sums.withUnsafeMutableBufferPointer { sums in
            let s00 = sums.baseAddress!, s11 = s00 + stride, s01 = s11 + stride
            for k in 0 ..< length {
                let x = v0 + k * stride, y = v1 + k * stride
                for o in 0 ..< stride {
                    let p = Double(x[o]), q = Double(y[o])
                    s00[o] += p * p
                    s11[o] += q * q
                    s01[o] += p * q
                }
            }
            var a = [Float](repeating: 0, count: stride), b = a, d = a
            for o in 0 ..< stride {
                let c = coefficients(t: t, squares0: s00[o], squares1: s11[o], dot: s01[o])
                a[o] = c.a
                b[o] = c.b
                d[o] = c.divisor
            }
            for k in 0 ..< length {
                let x = v0 + k * stride, y = v1 + k * stride, z = out + k * stride
                for o in 0 ..< stride { z[o] = (a[o] * x[o] + b[o] * y[o]) / d[o] }
            }
        }
    }
}
