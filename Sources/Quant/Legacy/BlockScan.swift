// Per-block scans of the legacy quantizers, vectorized but with the exact results of ggml's scalar loops.

/// ggml's `if (v < min) min = v; if (v > max) max = v;` over 32 floats, starting from `FLT_MAX` and
/// `-FLT_MAX` (NaNs are never taken).
///
/// Eight independent lanes find the same extreme values as the sequential loop; the one thing order
/// decides is which zero is kept when the extreme is ±0 (the first zero seen), so that case is resolved
/// by a scan.
@inlinable @inline(__always)
func minMax32(_ x: UnsafePointer<Float>) -> (min: Float, max: Float) {
    let raw = UnsafeRawPointer(x)
    var lo = SIMD8<Float>(repeating: .greatestFiniteMagnitude)
    var hi = SIMD8<Float>(repeating: -.greatestFiniteMagnitude)
    for k in 0..<4 {
        let v = raw.loadUnaligned(fromByteOffset: k &* 32, as: SIMD8<Float>.self)
        lo.replace(with: v, where: v .< lo)
        hi.replace(with: v, where: v .> hi)
    }
    var min = lo.min()
    var max = hi.max()
    if min == 0 { min = firstZero32(x) }
    if max == 0 { max = firstZero32(x) }
    return (min, max)
}

/// ggml's `if (amax < fabsf(v)) { amax = fabsf(v); max = v; }` over 32 floats from `amax = max = 0`:
/// the largest magnitude (NaNs never taken) and the first element that has it (+0 when all are ±0).
@inlinable @inline(__always)
func absMax32(_ x: UnsafePointer<Float>) -> (amax: Float, max: Float) {
    let raw = UnsafeRawPointer(x)
    var acc = SIMD8<Float>(repeating: 0)
    for k in 0..<4 {
        let v = raw.loadUnaligned(fromByteOffset: k &* 32, as: SIMD8<Float>.self)
        let a = v.replacing(with: -v, where: v .< 0) // |v| (−0 stays −0, never taken: acc ≥ 0)
        acc.replace(with: a, where: acc .< a)
    }
    let amax = acc.max()
    guard amax > 0 else { return (0, 0) }
    var first = 32
    for j in (0..<32).reversed() where x[j].magnitude == amax { first = j }
    return (amax, x[first])
}

/// The first ±0 among 32 floats (called when a scan's extreme is zero, so one exists).
@inlinable
func firstZero32(_ x: UnsafePointer<Float>) -> Float {
    for j in 0..<32 where x[j] == 0 { return x[j] }
    return 0
}
