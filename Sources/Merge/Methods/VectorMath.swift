import Foundation

/// Small reduction kernels shared by the geometric merge methods.
///
/// mergekit computes these reductions with torch in float32 (pairwise, blocked summation). Here the
/// float32 products are summed in `Double`, with four independent accumulators, which is at least as
/// accurate; callers round the result to `Float` where mergekit keeps a float32 scalar.
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
    /// Elements per block of the parallel reductions: tensors up to this size are summed exactly as the
    /// one-thread functions do; larger ones block by block (fixed blocks, added in order), so the result
    /// never depends on the thread count.
    static let reductionBlock = 1 << 20

    /// `partial` over fixed blocks of `0 ..< count`, on up to `threads` threads, added in block order.
    static func blockedSum(count: Int, threads: Int, _ partial: (Range<Int>) -> Double) -> Double {
        let block = reductionBlock
        let blocks = (count + block - 1) / block
        if blocks <= 1 { return partial(0 ..< count) }
        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: blocks)
        defer { sums.deallocate() }
        parallelChunks(count: blocks, chunk: 1, threads: threads) { range in
            for b in range { sums[b] = partial(b * block ..< min(count, (b + 1) * block)) }
        }
        return sums.reduce(0, +)
    }

    /// `norm(_:)` on `threads` threads.
    static func norm(_ x: UnsafeBufferPointer<Float>, threads: Int) -> Float {
        Float(blockedSum(count: x.count, threads: threads) { sumOfSquares(UnsafeBufferPointer(rebasing: x[$0])) }.squareRoot())
    }

    /// `normalizedDot(_:_:_:_:)` on `threads` threads.
    static func normalizedDot(_ x: UnsafeBufferPointer<Float>, _ nx: Float, _ y: UnsafeBufferPointer<Float>, _ ny: Float,
                              threads: Int) -> Double {
        blockedSum(count: x.count, threads: threads) {
            normalizedDot(UnsafeBufferPointer(rebasing: x[$0]), nx, UnsafeBufferPointer(rebasing: y[$0]), ny)
        }
    }

    /// `combine(_:_:_:_:into:)` on `threads` threads.
    static func combine(_ a: Float, _ x: UnsafeBufferPointer<Float>, _ b: Float, _ y: UnsafeBufferPointer<Float>,
                        into out: UnsafeMutableBufferPointer<Float>, threads: Int) {
        parallelChunks(count: out.count, chunk: reductionBlock, threads: threads) { range in
            combine(a, UnsafeBufferPointer(rebasing: x[range]), b, UnsafeBufferPointer(rebasing: y[range]),
                    into: UnsafeMutableBufferPointer(rebasing: out[range]))
        }
    }
}

extension UnsafeMutableBufferPointer where Element == Float {
    /// The same memory, read-only.
    var readOnly: UnsafeBufferPointer<Float> { UnsafeBufferPointer(self) }
}
