import Foundation

/// Small reduction kernels shared by the geometric merge methods.
///
/// mergekit computes these reductions with torch in float32 (pairwise, blocked summation). Here the
/// products are summed in `Double`, in eight lanes (element `i` in lane `i mod 8`, the lanes added
/// at the end in a fixed order), which is at least as accurate; callers round the result to `Float` where mergekit keeps a float32 scalar. Over a whole
/// tensor the sums are taken per row piece and the pieces' sums added in piece order (`PieceDriver`).
enum VectorMath {
    /// `Σ x[i]²`, accumulated in `Double`.
    static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Double {
        var lanes = DoubleLanes()
        var i = 0
        let n = x.count, n8 = n & ~7
        while i < n8 {
            let a = DoubleLanes.load(x, i)
            lanes.add(a.low * a.low, a.high * a.high)
            i &+= 8
        }
        var s = lanes.sum
        while i < n { let a = Double(x[i]); s += a * a; i &+= 1 }
        return s
    }

    /// The Euclidean norm of `x`, rounded to `Float` as torch's float32 `vector_norm` returns it.
    static func norm(_ x: UnsafeBufferPointer<Float>) -> Float {
        Float(sumOfSquares(x).squareRoot())
    }

    /// `Σ x[i]·y[i]`: each product rounded to `Float` (torch's `x * y`), summed in `Double`.
    static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
        precondition(x.count == y.count)
        var lanes = DoubleLanes()
        var i = 0
        let n = x.count, n8 = n & ~7
        while i < n8 {
            let product = x.load8(i) * y.load8(i)
            lanes.add(SIMD4<Double>(product.lowHalf), SIMD4<Double>(product.highHalf))
            i &+= 8
        }
        var s = lanes.sum
        while i < n { s += Double(x[i] * y[i]); i &+= 1 }
        return s
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

        init(xx: Double, yy: Double, xy: Double) {
            self.xx = xx
            self.yy = yy
            self.xy = xy
        }

        init(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) {
            var xxLanes = DoubleLanes(), yyLanes = DoubleLanes(), xyLanes = DoubleLanes()
            var i = 0
            let n = x.count, n8 = n & ~7
            while i < n8 {
                let a = DoubleLanes.load(x, i), b = DoubleLanes.load(y, i)
                xxLanes.add(a.low * a.low, a.high * a.high)
                yyLanes.add(b.low * b.low, b.high * b.high)
                xyLanes.add(a.low * b.low, a.high * b.high)
                i &+= 8
            }
            xx = xxLanes.sum
            yy = yyLanes.sum
            xy = xyLanes.sum
            while i < n { let a = Double(x[i]), b = Double(y[i]); xx += a * a; yy += b * b; xy += a * b; i &+= 1 }
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

/// Eight `Double` accumulators, element `i` of a run in lane `i mod 8`: sums that vectorize (two
/// independent `SIMD4` chains) in a fixed order.
struct DoubleLanes {
    var low = SIMD4<Double>(), high = SIMD4<Double>()

    /// Eight floats from `x[i]` on, widened to `Double`.
    @inline(__always)
    static func load(_ x: UnsafeBufferPointer<Float>, _ i: Int) -> (low: SIMD4<Double>, high: SIMD4<Double>) {
        let v = x.load8(i)
        return (SIMD4<Double>(v.lowHalf), SIMD4<Double>(v.highHalf))
    }

    @inline(__always)
    mutating func add(_ lowTerms: SIMD4<Double>, _ highTerms: SIMD4<Double>) {
        low += lowTerms
        high += highTerms
    }

    var sum: Double { (low + high).sum() }
}

extension UnsafeBufferPointer where Element == Float {
    /// Elements `i ..< i + 8` (the caller checks the bounds).
    @inline(__always)
    func load8(_ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
    }
}
