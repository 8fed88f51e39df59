// Per-block scans of the legacy quantizers, vectorized but with the exact results of ggml's scalar loops.

/// ggml's `if (v < min) min = v; if (v > max) max = v;` over 32 floats, starting from `FLT_MAX` and
/// `-FLT_MAX` (NaNs are never taken).
///
/// Eight lanes, each running ggml's comparison on every eighth element (`v < lo ? v : lo` is SSE's
/// `minps` and NEON's equivalent select, NaNs included), then the lanes combined the same way.
/// Extremes are values, not positions, so the order of the scan does not matter, except for which
/// zero is kept when the extreme is ±0 (ggml keeps the first zero seen): that case is resolved by a
/// scan.
@inlinable @inline(__always)
func minMax32(_ x: UnsafePointer<Float>) -> (min: Float, max: Float) {
    var lo = SIMD8<Float>(repeating: .greatestFiniteMagnitude), hi = SIMD8<Float>(repeating: -.greatestFiniteMagnitude)
    for group in 0 ..< 4 {
        for lane in 0 ..< 8 {
            let v = x[group &* 8 &+ lane]
            lo[lane] = v < lo[lane] ? v : lo[lane]
            hi[lane] = v > hi[lane] ? v : hi[lane]
        }
    }
    var min = lo[0], max = hi[0]
    for lane in 1 ..< 8 {
        min = lo[lane] < min ? lo[lane] : min
        max = hi[lane] > max ? hi[lane] : max
    }
    if min == 0 { min = firstZero32(x) }
    if max == 0 { max = firstZero32(x) }
    return (min, max)
}

/// ggml's `if (amax < fabsf(v)) { amax = fabsf(v); max = v; }` over 32 floats from `amax = max = 0`:
/// the largest magnitude (NaNs never taken) and the first element that has it (+0 when all are ±0).
///
/// On the magnitudes' bit patterns, which order as the magnitudes do (NaNs masked to 0): integer
/// reductions, which vectorize.
@inlinable @inline(__always)
func absMax32(_ x: UnsafePointer<Float>) -> (amax: Float, max: Float) {
    var acc: UInt32 = 0
    for j in 0..<32 {
        let m = x[j].bitPattern & 0x7FFF_FFFF
        acc = Swift.max(acc, m > 0x7F80_0000 ? 0 : m)
    }
    guard acc > 0 else { return (0, 0) }
    var first: UInt32 = 32
    for j in 0..<32 {
        first = Swift.min(first, x[j].bitPattern & 0x7FFF_FFFF == acc ? UInt32(j) : 32)
    }
    return (Float(bitPattern: acc), x[Int(first)])
}

/// ``absMax32(_:)`` and whether all 32 floats are finite. Finite blocks (every real model's) take
/// ``largestMagnitudeBits32(_:)``, and the first element of largest magnitude is the lowest bit of a
/// mask; the others take ``absMax32(_:)``.
@inlinable @inline(__always)
func scanAbsMax32(_ x: UnsafePointer<Float>) -> (amax: Float, max: Float, finite: Bool) {
    let largest = largestMagnitudeBits32(x)
    guard largest < 0x7F80_0000 else {
        let (amax, max) = absMax32(x)
        return (amax, max, false)
    }
    guard largest != 0 else { return (0, 0, true) }
    let amax = Float(bitPattern: largest)
    var first: UInt32 = 0
    for j in 0..<32 { first |= (x[j].magnitude == amax ? 1 : 0) &<< UInt32(j) }
    return (amax, x[first.trailingZeroBitCount], true)
}

/// The largest of 32 floats' magnitude bit patterns, which order as the magnitudes do, infinity and
/// then the NaNs above every finite value: all 32 are finite exactly when it is below `0x7F80_0000`,
/// and it is then the bit pattern of their largest magnitude. One integer reduction, which
/// vectorizes (a float one, `a > b ? a : b`, whose result with NaNs depends on the order, stays a
/// chain of scalar `max`es), serves as both the finiteness test and the maximum.
@inlinable @inline(__always)
func largestMagnitudeBits32(_ x: UnsafePointer<Float>) -> UInt32 {
    var acc: Int32 = 0
    for j in 0..<32 { acc = Swift.max(acc, Int32(bitPattern: x[j].bitPattern & 0x7FFF_FFFF)) }
    return UInt32(bitPattern: acc)
}

/// `MIN(top, (int8_t)t)` for `0 < t < 2²²`: the floor by the magic number, in floats, then its bits.
@inlinable @inline(__always)
func flooredLevel(_ t: Float, below top: Float) -> UInt32 {
    let nearest = (t + 12_582_912) - 12_582_912
    let floor = nearest > t ? nearest - 1 : nearest
    return ((floor < top ? floor : top) + 8_388_608).bitPattern & 0xFF
}

/// The first ±0 among 32 floats (called when a scan's extreme is zero, so one exists).
@inlinable
func firstZero32(_ x: UnsafePointer<Float>) -> Float {
    for j in 0..<32 where x[j] == 0 { return x[j] }
    return 0
}

/// The legacy encoders' block loop, eight blocks at a time: `scan` gives each block's two statistics
/// and whether it is finite, the scales `d = numerator(a, b) / divisor` and their inverses `1/d` (0 when
/// `d` is 0) are computed in lanes, then `body` encodes each block. Run block by block, each block's
/// division, inverse and half conversion waited on the previous block's: Q8_0's encoder went from
/// 5531 to 8696 MB/s, Q4_0's from 3757 to 5044, bytes unchanged (the divisions are the same IEEE ones).
@inlinable @inline(__always)
func forEachBlockInLanes(
    blocks: Int, divisor: Float,
    scan: (_ block: Int) -> (Float, Float, Bool),
    numerator: (_ a: Float, _ b: Float) -> Float,
    _ body: (_ block: Int, _ a: Float, _ b: Float, _ finite: Bool, _ d: Float, _ id: Float) -> Void
) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { lanes in
        let a = lanes.baseAddress!, b = a + 8, d = a + 16, id = a + 24
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: 8) { finite in
            var i = 0
            while i < blocks {
                let n = min(8, blocks &- i)
                for k in 0..<8 { (a[k], b[k], finite[k]) = k < n ? scan(i &+ k) : (0, 0, true) }
                for k in 0..<8 { d[k] = numerator(a[k], b[k]) / divisor }
                for k in 0..<8 { id[k] = d[k] != 0 ? 1 / d[k] : 0 }
                for k in 0..<n { body(i &+ k, a[k], b[k], finite[k], d[k], id[k]) }
                i &+= n
            }
        }
    }
}
