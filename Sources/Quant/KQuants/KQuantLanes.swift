// The K-quant helpers run on eight groups at once: lane `j` of every `SIMD8<Float>` belongs to group
// `j`, and element `i` of the groups is `x[i]`. Each lane performs exactly the single-precision
// operations of the scalar helper in `KQuantHelpers.swift` (the C function of `ggml-quants.c`) in the
// same order; the C code's branches become lane selects, and a loop leaves early only when it would
// for every lane. The output bytes are therefore those of the scalar code, on every input.

/// `(float)MAX(lower, MIN(upper, nearest_int(x)))` on eight lanes, for every input (NaN and
/// out-of-range values included): `nearestInt`'s bit trick, its result (always within ±2²²) turned
/// into a float exactly by the same trick backwards, then clamped (no NaN can reach the clamp).
@inline(__always)
internal func nearestLevel(_ x: SIMD8<Float>, _ lower: Float, _ upper: Float) -> SIMD8<Float> {
    let mantissa = unsafeBitCast(x + 12_582_912, to: SIMD8<UInt32>.self) & 0x007F_FFFF
    var l = unsafeBitCast(mantissa | 0x4B00_0000, to: SIMD8<Float>.self) - 12_582_912
    l.replace(with: lower, where: l .< lower)
    l.replace(with: upper, where: l .> upper)
    return l
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

/// `makeQKX2Quants` on eight groups of `n` values at once (lane `j` is group `j`; see
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
            if !any(solvable) { continue }
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
            if !any(better) { continue }
            for i in 0..<n { levels[i].replace(with: laux[i], where: better) }
            bestError.replace(with: curError, where: better)
            scale.replace(with: thisScale, where: better)
            min.replace(with: thisMin, where: better)
        }
    }
    if any(flat) {
        for i in 0..<n { levels[i].replace(with: 0, where: flat) }
        scale.replace(with: 0, where: flat)
        min.replace(with: flatMin, where: flat)
    }
    return (scale, -min)
}
