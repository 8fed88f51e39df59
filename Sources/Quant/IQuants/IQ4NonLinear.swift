// The 16-level non-linear grid shared by IQ4_NL and IQ4_XS, and the scale search of llama.cpp's
// `quantize_row_iq4_nl_impl`, lane-parallel across the 16 candidate scales.

/// ggml's `kvalues_iq4nl` as floats: the level each 4-bit index stands for.
@usableFromInline
let iq4Levels: SIMD16<Float> = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

/// ggml's `best_index_int8(16, kvalues_iq4nl, x)`: the index of the level nearest to `x` (the upper
/// one on a tie; NaN gives 15), found by the same comparisons. The scalar reference of
/// ``iq4NearestLevels(_:)``.
@inlinable @inline(__always)
func iq4NearestLevel(_ x: Float, _ levels: SIMD16<Float>) -> UInt8 {
    if x <= levels[0] { return 0 }
    if x >= levels[15] { return 15 }
    var ml = 0, mu = 15
    while mu &- ml > 1 {
        let mav = (ml &+ mu) / 2
        if x < levels[mav] { mu = mav } else { ml = mav }
    }
    return UInt8(truncatingIfNeeded: x - levels[mu &- 1] < levels[mu] - x ? mu &- 1 : mu)
}

/// `best_index_int8(16, kvalues_iq4nl, x)` on 16 lanes at once, as the level index and its value.
///
/// The binary search ends on the neighbours `levels[k]`, `levels[k + 1]` where `k` is the last level
/// in 1…14 that `x` is not below (0 if none); as the levels increase, counting those levels finds the
/// same `k` without branches, and the final comparison is ggml's, float for float. The edge cases come
/// out as in ggml without their tests: below `levels[0]` the lower neighbour wins, above `levels[15]`
/// the upper one, and NaN (never below a level) gives 15.
@inlinable @inline(__always)
func iq4NearestLevels(_ x: SIMD16<Float>) -> (index: SIMD16<Int32>, level: SIMD16<Float>) {
    let v: SIMD16<Float> = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]
    var k = SIMD16<Int32>(repeating: 0)
    var lower = SIMD16<Float>(repeating: v[0]), upper = SIMD16<Float>(repeating: v[1])
    for i in 1 ... 14 {
        let notBelow = .!(x .< SIMD16(repeating: v[i]))
        k.replace(with: Int32(i), where: notBelow)
        lower.replace(with: v[i], where: notBelow)
        upper.replace(with: v[i &+ 1], where: notBelow)
    }
    let takeLower = x - lower .< upper - x
    return (k.replacing(with: k &+ 1, where: .!takeLower), upper.replacing(with: lower, where: takeLower))
}

/// The scale of one group of 32 as `quantize_row_iq4_nl_impl` chooses it with `ntry = 7` (what
/// `quantize_iq4_nl` and `quantize_iq4_xs` pass): a first scale from the element of largest
/// magnitude, then 15 trial scales around it, keeping the one with the best weighted least-squares
/// fit. The weights are `weights[j]`, or `x[j]²` (ggml's choice without an importance matrix) when
/// `weights` is nil. Groups with `max|x| < 1e-15` get 0.
///
/// The 16 candidates run in the 16 lanes of one vector, each lane summing over the group in ggml's
/// order with ggml's operations; the best is then picked in ggml's order, so the result is
/// bit-identical.
@inlinable
func iq4GroupScale(_ x: UnsafePointer<Float>, _ levels: SIMD16<Float>,
                   weights: UnsafePointer<Float>? = nil) -> Float {
    var amax: Float = 0, max: Float = 0
    for j in 0..<32 {
        let ax = x[j].magnitude
        if ax > amax { amax = ax; max = x[j] }
    }
    if amax < 1e-15 { return 0 }
    // Lane 0: the first guess `1/d` for `d = −max/levels[0]`; lanes 1…15: ggml's `(itry + levels[0])/max`
    // for itry = −7…7.
    let trials: SIMD16<Float> = [0, -134, -133, -132, -131, -130, -129, -128, -127, -126, -125, -124, -123, -122, -121, -120]
    var ids = trials / SIMD16(repeating: max)
    ids[0] = 1 / (-max / levels[0])
    var sumqx = SIMD16<Float>(), sumq2 = SIMD16<Float>()
    for j in 0..<32 {
        let xj = x[j]
        let w = weights?[j] ?? xj * xj
        let q = iq4NearestLevels(ids * xj).level
        let wq = w * q
        sumqx += wq * xj
        sumq2 += wq * q
    }
    var d = sumq2[0] > 0 ? sumqx[0] / sumq2[0] : 0
    var best = d * sumqx[0]
    for t in 1..<16 where sumq2[t] > 0 && sumqx[t] * sumqx[t] > best * sumq2[t] {
        d = sumqx[t] / sumq2[t]
        best = d * sumqx[t]
    }
    return d
}

/// Writes the 16 bytes of 4-bit indices of a group of 32 (`qs`): byte `j` holds the level index of
/// `x[j]` in its low nibble and of `x[j + 16]` in its high nibble, each the nearest level to
/// `inverseScale·x`.
@inlinable @inline(__always)
func iq4PackGroup(_ x: UnsafePointer<Float>, inverseScale id: Float, _ levels: SIMD16<Float>,
                  into qs: UnsafeMutableRawPointer) {
    let raw = UnsafeRawPointer(x)
    let lo = iq4NearestLevels(id * raw.loadUnaligned(as: SIMD16<Float>.self)).index
    let hi = iq4NearestLevels(id * raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)).index
    qs.storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: lo | hi &<< 4), as: SIMD16<UInt8>.self)
}

/// Runs `body` with ggml's `kvalues_iq4nl` as a table of 16 floats in memory (level `i` at byte
/// offset `4·i`), for the decoders' per-element lookups.
@inlinable @inline(__always)
func withIQ4LevelTable<R>(_ body: (UnsafeRawPointer) -> R) -> R {
    var levels = iq4Levels
    return withUnsafeBytes(of: &levels) { body($0.baseAddress!) }
}
