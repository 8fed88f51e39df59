// The K-quant helpers run on eight groups at once: lane `j` of every `SIMD8<Float>` belongs to group
// `j`, and element `i` of the groups is `x[i]`. Each lane performs exactly the single-precision
// operations of the C function of `ggml-quants.c` in the same order (without FMA contraction, which
// neither ggml-quants.c on x86-64 nor Swift does); the C code's branches become lane selects, and a
// loop leaves early only when it would for every lane. The output bytes are therefore C's, on every
// input.

/// `(float)MAX(lower, MIN(upper, nearest_int(x)))` on eight lanes, for every input (NaN and
/// out-of-range values included): `nearestInt`'s bit trick, its result (always within ±2²²) turned
/// into a float exactly by the same trick backwards, then clamped (no NaN can reach the clamp).
@inline(__always)
internal func nearestLevel(_ x: SIMD8<Float>, _ lower: Float, _ upper: Float) -> SIMD8<Float> {
    let mantissa = unsafeBitCast(x + 12_582_912, to: SIMD8<UInt32>.self) & 0x007F_FFFF
    var l = unsafeBitCast(mantissa | 0x4B00_0000, to: SIMD8<Float>.self) - 12_582_912
    // Lane by lane, so LLVM sees compare-and-select pairs it turns into single max/min instructions.
    for k in 0..<8 {
        let atLeastLower = l[k] < lower ? lower : l[k]
        l[k] = atLeastLower > upper ? upper : atLeastLower
    }
    return l
}

/// Whether any lane of `mask` is set. The standard library's `any(_:)` reduces through a generic
/// `min()` that is not inlined here: a call per element in the descents (12 % of the Q3_K encoder).
@inline(__always)
internal func anyLane(_ mask: SIMDMask<SIMD8<Int32>>) -> Bool {
    anyLane(laneBits(mask))
}

/// Whether any lane of `bits` (a 32-byte vector of a mask's lanes, all ones or zero: eight 32-bit
/// or sixteen 16-bit) is set, read as four 64-bit words.
@inlinable @inline(__always)
internal func anyLane<Lanes: SIMD>(_ bits: Lanes) -> Bool where Lanes.Scalar: FixedWidthInteger {
    let words = unsafeBitCast(bits, to: SIMD4<UInt64>.self)
    return (words[0] | words[1] | words[2] | words[3]) != 0
}

/// A mask's lanes as integers (all ones where set), so that masks combine with plain integer `&`.
@inline(__always)
internal func laneBits(_ mask: SIMDMask<SIMD8<Int32>>) -> SIMD8<Int32> {
    unsafeBitCast(mask, to: SIMD8<Int32>.self)
}

/// The integers in eight lanes of small non-negative whole floats (levels), by the magic-number
/// trick: exact for values in `0 ..< 2²³`.
@inline(__always)
internal func integerLevels(_ levels: SIMD8<Float>) -> SIMD8<UInt32> {
    unsafeBitCast(levels + 8_388_608, to: SIMD8<UInt32>.self) & 0x007F_FFFF
}

/// `fabsf` on eight lanes: the sign bit cleared (NaN included).
@inline(__always)
internal func magnitude(_ x: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
}

/// Loads eight consecutive groups of `n` values at `x` into lanes: `lanes[i][j] = x[n·j + i]`.
@inline(__always)
internal func loadGroupLanes(_ n: Int, _ x: UnsafePointer<Float>, into lanes: UnsafeMutablePointer<SIMD8<Float>>) {
    for i in 0..<n {
        lanes[i] = SIMD8(x[i], x[n &+ i], x[2 &* n &+ i], x[3 &* n &+ i],
                         x[4 &* n &+ i], x[5 &* n &+ i], x[6 &* n &+ i], x[7 &* n &+ i])
    }
}

/// `make_qkx2_quants` on eight groups of `n` values at once (lane `j` is group `j`; see
/// `loadGroupLanes`); `levels` receives the levels as floats in the same layout, `scratch` holds `n`
/// lanes of candidate levels.
///
/// Bit-exact, lane by lane, with `make_qkx2_quants` in `ggml-quants.c`; returns `(scale, *the_min)`.
@inline(__always)
internal func makeQKX2Quants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<SIMD8<Float>>, weights: UnsafePointer<SIMD8<Float>>,
    _ levels: UnsafeMutablePointer<SIMD8<Float>>, scratch laux: UnsafeMutablePointer<SIMD8<Float>>,
    rmin: Float, rdelta: Float, nstep: Int, useMad: Bool
) -> (scale: SIMD8<Float>, min: SIMD8<Float>) {
    var min = x[0]
    var max = x[0]
    var sumW = weights[0]
    var sumX = sumW * x[0]
    for i in 1..<n {
        min.replace(with: x[i], where: x[i] .< min)
        max.replace(with: x[i], where: x[i] .> max)
        let w = weights[i]
        sumW += w
        sumX += w * x[i]
    }
    min.replace(with: 0, where: min .> 0)
    // A flat group's result is fixed here; its lane computes along but is overwritten at the end.
    let flat = max .== min
    let flatMin = min
    let fmax = Float(nmax)
    var iscale = fmax / (max - min)
    var scale = 1 / iscale
    var bestError = SIMD8<Float>()
    for i in 0..<n {
        let fl = nearestLevel(iscale * (x[i] - min), 0, fmax)
        levels[i] = fl
        var diff = scale * fl + min - x[i]
        diff = useMad ? magnitude(diff) : diff * diff
        bestError += weights[i] * diff
    }
    if nstep >= 1 {
        for step in 0...nstep {
            iscale = (rmin + rdelta * Float(step) + fmax) / (max - min)
            var sumL = SIMD8<Float>()
            var sumL2 = SIMD8<Float>()
            var sumXL = SIMD8<Float>()
            for i in 0..<n {
                let fl = nearestLevel(iscale * (x[i] - min), 0, fmax)
                laux[i] = fl
                let w = weights[i]
                sumL += w * fl
                sumL2 += w * fl * fl
                sumXL += w * fl * x[i]
            }
            let det = sumW * sumL2 - sumL * sumL
            let solvable = det .> 0
            if !anyLane(solvable) { continue }
            var thisScale = (sumW * sumXL - sumX * sumL) / det
            var thisMin = (sumL2 * sumX - sumL * sumXL) / det
            let positiveMin = thisMin .> 0
            thisMin.replace(with: 0, where: positiveMin)
            thisScale.replace(with: sumXL / sumL2, where: positiveMin)
            var curError = SIMD8<Float>()
            for i in 0..<n {
                var diff = thisScale * laux[i] + thisMin - x[i]
                diff = useMad ? magnitude(diff) : diff * diff
                curError += weights[i] * diff
            }
            let better = solvable .& (curError .< bestError)
            if !anyLane(better) { continue }
            for i in 0..<n { levels[i].replace(with: laux[i], where: better) }
            bestError.replace(with: curError, where: better)
            scale.replace(with: thisScale, where: better)
            min.replace(with: thisMin, where: better)
        }
    }
    if anyLane(flat) {
        for i in 0..<n { levels[i].replace(with: 0, where: flat) }
        scale.replace(with: 0, where: flat)
        min.replace(with: flatMin, where: flat)
    }
    return (scale, -min)
}

/// Stores eight groups of `n` levels held in lanes (the layout of `loadGroupLanes`) as bytes:
/// `levels[n·j + i] = lanes[i][j]`.
@inline(__always)
internal func storeGroupLevels(_ n: Int, _ lanes: UnsafePointer<SIMD8<Float>>, into levels: UnsafeMutablePointer<UInt8>) {
    for i in 0..<n {
        let l = integerLevels(lanes[i])
        for j in 0..<8 { levels[n &* j &+ i] = UInt8(truncatingIfNeeded: l[j]) }
    }
}

/// `make_qx_quants` with `rmse_type == 1` (weights `x²`) on eight groups of `n` values at once (lane `j`
/// is group `j`; see `loadGroupLanes`); `levels` receives the stored levels (`level + nmax`, zeros
/// for an all-zero group) as floats in the same layout, `scratch` holds `3·n` lanes (candidate
/// levels, and the products `w` and `w·x` that C recomputes at each step).
///
/// Bit-exact, lane by lane, with `make_qx_quants` in `ggml-quants.c` with `rmse_type == 1` and
/// `qw == NULL`.
@inline(__always)
internal func makeQXQuants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<SIMD8<Float>>, _ levels: UnsafeMutablePointer<SIMD8<Float>>,
    scratch laux: UnsafeMutablePointer<SIMD8<Float>>
) -> SIMD8<Float> {
    let w = laux + n
    let wx = w + n
    let fmax = Float(nmax)
    let fit = signedFirstFit(n, nmax, x, levels, w: w, wx: wx)
    let max = fit.max, allZero = fit.allZero
    var sumlx = fit.sumlx, suml2 = fit.suml2
    var scale = (sumlx / suml2).replacing(with: 0, where: suml2 .== 0)
    var best = scale * sumlx
    for step in -9...9 where step != 0 {
        let iscale = -(fmax + 0.1 * Float(step)) / max
        sumlx = SIMD8<Float>()
        suml2 = SIMD8<Float>()
        for i in 0..<n {
            let l = nearestLevel(iscale * x[i], -fmax, fmax - 1)
            laux[i] = l
            sumlx += wx[i] * l
            suml2 += w[i] * l * l
        }
        let better = (suml2 .> 0) .& (sumlx * sumlx .> best * suml2)
        if !anyLane(better) { continue }
        for i in 0..<n { levels[i].replace(with: laux[i], where: better) }
        let newScale = sumlx / suml2
        scale.replace(with: newScale, where: better)
        best.replace(with: newScale * sumlx, where: better)
    }
    for i in 0..<n { levels[i] = (levels[i] + fmax).replacing(with: 0, where: allZero) }
    return scale.replacing(with: 0, where: allZero)
}

/// The first fit of `make_qx_quants` and `make_q3_quants` (weights `x²`) on eight lanes: the signed
/// maximum, the levels at the inverse scale `-nmax / max` into `levels`, `w = x²` and `w·x` (which C
/// recomputes as the same float products at every use) into `w` and `wx`, and the sums `Σ w·x·l`,
/// `Σ w·l²`. `allZero` marks the groups below `GROUP_MAX_EPS`: C returns early for them; their lanes
/// compute along and callers overwrite their results.
@inline(__always)
internal func signedFirstFit(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<SIMD8<Float>>, _ levels: UnsafeMutablePointer<SIMD8<Float>>,
    w: UnsafeMutablePointer<SIMD8<Float>>, wx: UnsafeMutablePointer<SIMD8<Float>>
) -> (max: SIMD8<Float>, allZero: SIMDMask<SIMD8<Int32>>, sumlx: SIMD8<Float>, suml2: SIMD8<Float>) {
    let (max, amax) = signedMaxMagnitude(n, x)
    let fmax = Float(nmax)
    let iscale = -fmax / max
    var sumlx = SIMD8<Float>()
    var suml2 = SIMD8<Float>()
    for i in 0..<n {
        let l = nearestLevel(iscale * x[i], -fmax, fmax - 1)
        levels[i] = l
        w[i] = x[i] * x[i]
        wx[i] = w[i] * x[i]
        sumlx += wx[i] * l
        suml2 += w[i] * l * l
    }
    return (max, amax .< kGroupMaxEps, sumlx, suml2)
}

/// The value of largest magnitude (the first one, on ties) and that magnitude in each lane, as the
/// scans of `make_qx_quants` and `make_q3_quants` find them (see `signedMaxMagnitude`).
@inline(__always)
internal func signedMaxMagnitude(_ n: Int, _ x: UnsafePointer<SIMD8<Float>>) -> (value: SIMD8<Float>, magnitude: SIMD8<Float>) {
    var max = SIMD8<Float>()
    var amax = SIMD8<Float>()
    for i in 0..<n {
        let ax = magnitude(x[i])
        let larger = ax .> amax
        amax.replace(with: ax, where: larger)
        max.replace(with: x[i], where: larger)
    }
    return (max, amax)
}

/// `make_q3_quants` with `do_rmse` on eight groups of `n` values at once (lane `j` is group `j`; see
/// `loadGroupLanes`); `levels` receives the stored levels (`level + nmax`, zeros for an all-zero
/// group) as floats in the same layout, `scratch` holds `2n` lanes (the weights `w = x²`, then
/// `w·x`, which C recomputes as the same float product at every use). The five
/// passes of coordinate descent run until no lane changes: a pass that changes nothing in a lane
/// leaves it as it was, so the passes C skips would change nothing either.
///
/// Bit-exact, lane by lane, with `make_q3_quants` in `ggml-quants.c` with `do_rmse` true.
@inline(__always)
internal func makeQ3Quants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<SIMD8<Float>>, _ levels: UnsafeMutablePointer<SIMD8<Float>>,
    scratch w: UnsafeMutablePointer<SIMD8<Float>>
) -> SIMD8<Float> {
    let wx = w + n
    let fmax = Float(nmax)
    let fit = signedFirstFit(n, nmax, x, levels, w: w, wx: wx)
    let allZero = fit.allZero
    var sumlx = fit.sumlx, suml2 = fit.suml2
    for _ in 0..<5 {
        var changed = false
        for i in 0..<n {
            let li = levels[i]
            var slx = sumlx - wx[i] * li
            var sl2 = suml2 - w[i] * li * li
            let newL = nearestLevel(x[i] * sl2 / slx, -fmax, fmax - 1)
            let differs = laneBits(slx .> 0) & laneBits(newL .!= li)
            if !anyLane(differs) { continue }
            slx += wx[i] * newL
            sl2 += w[i] * newL * newL
            let acceptedBits = differs & laneBits(sl2 .> 0) & laneBits(slx * slx * suml2 .> sumlx * sumlx * sl2)
            // Usually no lane changes: the branch (as C's) lets the next element start before this
            // one's comparison is known.
            if !anyLane(acceptedBits) { continue }
            let accepted = unsafeBitCast(acceptedBits, to: SIMDMask<SIMD8<Int32>>.self)
            levels[i].replace(with: newL, where: accepted)
            sumlx.replace(with: slx, where: accepted)
            suml2.replace(with: sl2, where: accepted)
            changed = true
        }
        if !changed { break }
    }
    for i in 0..<n { levels[i] = (levels[i] + fmax).replacing(with: 0, where: allZero) }
    return (sumlx / suml2).replacing(with: 0, where: .!(suml2 .> 0) .| allZero)
}
