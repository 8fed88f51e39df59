// The 16-level non-linear grid shared by IQ4_NL and IQ4_XS, and the scale search of llama.cpp's
// `quantize_row_iq4_nl_impl` (without an importance matrix).

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

/// The scale of one group of 32 as `quantize_row_iq4_nl_impl` chooses it with no importance matrix
/// and `ntry = 7` (what `quantize_iq4_nl` and `quantize_iq4_xs` pass): weights `x²`, a first scale
/// from the element of largest magnitude, then 15 trial scales around it, keeping the one with the
/// best weighted least-squares fit. Groups with `max|x| < 1e-15` get 0. Same operations in the same
/// order as ggml, so the result is bit-identical.
@inlinable
func iq4GroupScale(_ x: UnsafePointer<Float>, _ levels: SIMD16<Float>) -> Float {
    var amax: Float = 0, max: Float = 0
    for j in 0..<32 {
        let ax = x[j].magnitude
        if ax > amax { amax = ax; max = x[j] }
    }
    if amax < 1e-15 { return 0 }
    var d = -max / levels[0]
    var id = 1 / d
    var sumqx: Float = 0, sumq2: Float = 0
    for j in 0..<32 {
        let q = levels[Int(iq4NearestLevel(id * x[j], levels))]
        let w = x[j] * x[j]
        sumqx += w * q * x[j]
        sumq2 += w * q * q
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0
    var best = d * sumqx
    for itry in -7...7 {
        id = Float(itry &- 127) / max
        sumqx = 0
        sumq2 = 0
        for j in 0..<32 {
            let q = levels[Int(iq4NearestLevel(id * x[j], levels))]
            let w = x[j] * x[j]
            sumqx += w * q * x[j]
            sumq2 += w * q * q
        }
        if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
            d = sumqx / sumq2
            best = d * sumqx
        }
    }
    return d
}

/// Writes the 16 bytes of 4-bit indices of a group of 32 (`qs`): byte `j` holds the level index of
/// `x[j]` in its low nibble and of `x[j + 16]` in its high nibble, each the nearest level to
/// `x·inverseScale`.
@inlinable @inline(__always)
func iq4PackGroup(_ x: UnsafePointer<Float>, inverseScale id: Float, _ levels: SIMD16<Float>,
                  into qs: UnsafeMutableRawPointer) {
    for j in 0..<16 {
        let lo = iq4NearestLevel(id * x[j], levels)
        let hi = iq4NearestLevel(id * x[j &+ 16], levels)
        qs.storeBytes(of: lo | (hi &<< 4), toByteOffset: j, as: UInt8.self)
    }
}
