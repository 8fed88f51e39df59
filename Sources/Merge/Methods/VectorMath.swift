import Foundation

/// Small reduction kernels shared by the geometric merge methods.
///
/// mergekit computes these reductions with torch in float32 (pairwise, blocked summation). Here the
/// float32 products are summed in `Double`, with four independent accumulators, which is at least as
/// accurate; callers round the result to `Float` where mergekit keeps a float32 scalar. Over a whole
/// tensor the sums are taken per row piece and the pieces' sums added in piece order (`PieceDriver`).
enum VectorMath {
    /// `Σ x[i]²`, accumulated in `Double`.
    static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        let n = x.count, n4 = n & ~3
        var i = 0
        while i < n4 {
            let a = Double(x[i]), b = Double(x[i &+ 1]), c = Double(x[i &+ 2]), d = Double(x[i &+ 3])
            s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d
            i &+= 4
        }
        while i < n { let a = Double(x[i]); s0 += a * a; i &+= 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// The Euclidean norm of `x`, rounded to `Float` as torch's float32 `vector_norm` returns it.
    static func norm(_ x: UnsafeBufferPointer<Float>) -> Float {
        Float(sumOfSquares(x).squareRoot())
    }

    /// `Σ x[i]·y[i]`: each product rounded to `Float` (torch's `x * y`), summed in `Double`.
    static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
        precondition(x.count == y.count)
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        let n = x.count, n4 = n & ~3
        var i = 0
        while i < n4 {
            s0 += Double(x[i] * y[i])
            s1 += Double(x[i &+ 1] * y[i &+ 1])
            s2 += Double(x[i &+ 2] * y[i &+ 2])
            s3 += Double(x[i &+ 3] * y[i &+ 3])
            i &+= 4
        }
        while i < n { s0 += Double(x[i] * y[i]); i &+= 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// `Σ (x[i]/nx)·(y[i]/ny)` with each quotient and product rounded to `Float`, as mergekit's
    /// SLERP and NuSLERP take the dot product of normalized copies; summed in `Double`.
    static func normalizedDot(_ x: UnsafeBufferPointer<Float>, _ nx: Float,
                              _ y: UnsafeBufferPointer<Float>, _ ny: Float) -> Double {
        precondition(x.count == y.count)
        var s0 = 0.0, s1 = 0.0
        let n = x.count, n2 = n & ~1
        var i = 0
        while i < n2 {
            s0 += Double((x[i] / nx) * (y[i] / ny))
            s1 += Double((x[i &+ 1] / nx) * (y[i &+ 1] / ny))
            i &+= 2
        }
        if i < n { s0 += Double((x[i] / nx) * (y[i] / ny)) }
        return s0 + s1
    }

    /// `out[i] = a·x[i] + b·y[i]` in float32, products rounded before the sum (no fused multiply-add),
    /// as torch evaluates `a * x + b * y`.
    static func combine(_ a: Float, _ x: UnsafeBufferPointer<Float>, _ b: Float, _ y: UnsafeBufferPointer<Float>,
                        into out: UnsafeMutableBufferPointer<Float>) {
        precondition(x.count == out.count && y.count == out.count)
        for i in 0 ..< out.count {
            out[i] = a * x[i] + b * y[i]
        }
    }
}

extension VectorMath {
    /// `Σ x²`, `Σ y²` and `Σ x·y` of two vectors, summed in `Double` (products of the float32 values
    /// taken in `Double`): the statistics of SLERP and NuSLERP, gathered in one pass.
    struct PairSums: Sendable {
        var xx = 0.0, yy = 0.0, xy = 0.0

        init() {}

        init(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) {
            var xx0 = 0.0, xx1 = 0.0, yy0 = 0.0, yy1 = 0.0, xy0 = 0.0, xy1 = 0.0
            let n = x.count, n2 = n & ~1
            var i = 0
            while i < n2 {
                let a0 = Double(x[i]), b0 = Double(y[i]), a1 = Double(x[i &+ 1]), b1 = Double(y[i &+ 1])
                xx0 += a0 * a0; yy0 += b0 * b0; xy0 += a0 * b0
                xx1 += a1 * a1; yy1 += b1 * b1; xy1 += a1 * b1
                i &+= 2
            }
            if i < n { let a = Double(x[i]), b = Double(y[i]); xx0 += a * a; yy0 += b * b; xy0 += a * b }
            xx = xx0 + xx1
            yy = yy0 + yy1
            xy = xy0 + xy1
        }

        mutating func add(_ other: PairSums) {
            xx += other.xx
            yy += other.yy
            xy += other.xy
        }

        /// The dot product of `x / nx` and `y / ny`, rounded to float32.
        func normalizedDot(_ nx: Float, _ ny: Float) -> Float {
            Float(xy / (Double(nx) * Double(ny)))
        }
    }
}

extension UnsafeMutableBufferPointer where Element == Float {
    /// `self[i] = self[i] − base[i]` (float32), elementwise: a task vector in place.
    func subtract(_ base: UnsafeMutableBufferPointer<Float>) {
        for i in indices { self[i] = self[i] - base[i] }
    }

    /// The same memory, read-only.
    var readOnly: UnsafeBufferPointer<Float> { UnsafeBufferPointer(self) }
}
