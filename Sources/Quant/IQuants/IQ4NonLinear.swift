// The 16-level non-linear grid shared by IQ4_NL and IQ4_XS, and the scale search of llama.cpp's
// `quantize_row_iq4_nl_impl`, lane-parallel across the 16 candidate scales.

/// ggml's `kvalues_iq4nl` as floats: the level each 4-bit index stands for.
@usableFromInline
let iq4Levels: SIMD16<Float> = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

/// ggml's `best_index_int8(16, kvalues_iq4nl, x)`: the index of the level nearest to `x` (the upper
/// one on a tie; NaN gives 15), found by the same comparisons.
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

/// The level `best_index_int8(16, kvalues_iq4nl, x)` picks, in 16 lanes at once, with only lane-wise
/// arithmetic and bit masks (no branches, no lookups, no mask comparisons, which Swift's SIMD types
/// do lane by lane).
///
/// The binary search ends on the neighbours `levels[k]`, `levels[k + 1]` where `k` is the last level
/// in 1…14 that `x` is not below (0 if none). As the levels increase, starting from the top pair
/// (89, 113) and stepping both neighbours down one level for each level `x` is below finds the same
/// pair (all sums are small integers, so exact); the final comparison is ggml's `x − lower <
/// upper − x`, on the same two rounded differences. "a < b" is read from the sign of `a − b`, exact
/// for all non-NaN floats (a difference of distinct floats is never zero; equal ones give +0). Below
/// `levels[0]` the lower neighbour wins and above `levels[15]` the upper one, as in ggml. A NaN lane
/// may pick any level: in the scale search a NaN product `id·x` comes from a NaN or infinite input,
/// which makes every candidate's sums NaN or infinite whatever the level, so it never changes a scale.
@inlinable @inline(__always)
func iq4NearestLevelValues(_ x: SIMD16<Float>) -> SIMD16<Float> {
    /// All ones in the lanes where `a < b` (a non-NaN), else zeros.
    @inline(__always) func less(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<UInt32> {
        SIMD16<UInt32>(truncatingIfNeeded: unsafeBitCast(a - b, to: SIMD16<Int32>.self) &>> 31)
    }
    var lower = SIMD16<Float>(repeating: 89), upper = SIMD16<Float>(repeating: 113)
    /// Where `x < level`: both neighbours one level down (by `lowerStep` and `upperStep`).
    @inline(__always) func step(_ level: Float, _ lowerStep: Float, _ upperStep: Float) {
        let below = less(x, SIMD16(repeating: level))
        lower -= unsafeBitCast(below & SIMD16(repeating: lowerStep.bitPattern), to: SIMD16<Float>.self)
        upper -= unsafeBitCast(below & SIMD16(repeating: upperStep.bitPattern), to: SIMD16<Float>.self)
    }
    step(89, 20, 24); step(69, 16, 20); step(53, 15, 16); step(38, 13, 15); step(25, 12, 13)
    step(13, 12, 12); step(1, 11, 12); step(-10, 12, 11); step(-22, 13, 12); step(-35, 14, 13)
    step(-49, 16, 14); step(-65, 18, 16); step(-83, 21, 18); step(-104, 23, 21)
    let takeLower = less(x - lower, upper - x)
    let gap = unsafeBitCast(upper - lower, to: SIMD16<UInt32>.self)
    return upper - unsafeBitCast(takeLower & gap, to: SIMD16<Float>.self)
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
    // Candidate inverse scales: lane 0 the first guess `1/d` for `d = −max/levels[0]`; lanes 1…15
    // ggml's `(itry + levels[0])/max` for itry = −7…7.
    var ids = SIMD16<Float>(-135, -134, -133, -132, -131, -130, -129, -128, -127, -126, -125, -124, -123, -122, -121, -120)
        / SIMD16(repeating: max)
    ids[0] = 1 / (-max / levels[0])
    var sumqx = SIMD16<Float>(), sumq2 = SIMD16<Float>()
    for j in 0..<32 {
        let xj = x[j]
        let w = weights?[j] ?? xj * xj
        let q = iq4NearestLevelValues(ids * SIMD16(repeating: xj))
        let wq = SIMD16(repeating: w) * q
        sumqx += wq * SIMD16(repeating: xj)
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
    for j in 0..<16 {
        let lo = iq4NearestLevel(id * x[j], levels)
        let hi = iq4NearestLevel(id * x[j &+ 16], levels)
        qs.storeBytes(of: lo | (hi &<< 4), toByteOffset: j, as: UInt8.self)
    }
}

/// Runs `body` with ggml's `kvalues_iq4nl` as a table of 16 floats in memory (level `i` at byte
/// offset `4·i`), for the decoders' per-element lookups.
@inlinable @inline(__always)
func withIQ4LevelTable<R>(_ body: (UnsafeRawPointer) -> R) -> R {
    var levels = iq4Levels
    return withUnsafeBytes(of: &levels) { body($0.baseAddress!) }
}
