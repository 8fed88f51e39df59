// Shared building blocks of the K-quant codecs, after the helpers at the top of the "2-6 bit
// quantization in super-blocks" section of llama.cpp's `ggml-quants.c`.
//
// Every function repeats the C code's single-precision operations in the same order (ggml-quants.c
// is compiled without FMA contraction on x86-64, and Swift does not contract either), including the
// C conversions: `int` → `Float` for quant levels, and truncation where C stores an `int` into an
// `int8_t`/`uint8_t`. Pointers are trusted: callers pass buffers of at least `n` elements.

/// Elements per K-quant super-block (`QK_K`).
@usableFromInline internal let kQK: Int = 256

/// Groups whose largest magnitude is below this are treated as all zero (`GROUP_MAX_EPS`).
@usableFromInline internal let kGroupMaxEps: Float = 1e-15

/// The value of largest magnitude (the first one, on ties) and that magnitude, as the scans of
/// `make_qx_quants` and `make_q3_quants` find them.
@inline(__always)
internal func signedMaxMagnitude(_ n: Int, _ x: UnsafePointer<Float>) -> (value: Float, magnitude: Float) {
    var max: Float = 0
    var amax: Float = 0
    for i in 0..<n {
        let ax = x[i].magnitude
        if ax > amax { amax = ax; max = x[i] }
    }
    return (max, amax)
}

/// Signed symmetric quantization of `n` values to levels `-nmax ..< nmax`, stored in `levels` as
/// `level + nmax`; returns the scale (`x ≈ scale · level`). With `rmseType` 1 the scale is refined by
/// weighted least squares (weights `x²`) over 18 candidate inverse scales around `-nmax / max`.
///
/// Bit-exact with `make_qx_quants` in `ggml-quants.c` with `qw == NULL` (the path without an
/// importance matrix); `rmseType` takes the C values 0, ±1 … ±4.
@inline(__always)
internal func makeQXQuants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<Int8>,
    rmseType: Int
) -> Float {
    let (max, amax) = signedMaxMagnitude(n, x)
    if amax < kGroupMaxEps {
        for i in 0..<n { levels[i] = 0 }
        return 0
    }
    var iscale = Float(-nmax) / max
    if rmseType == 0 {
        for i in 0..<n {
            let l = Int(nearestInt(iscale * x[i]))
            levels[i] = Int8(truncatingIfNeeded: nmax &+ Swift.max(-nmax, Swift.min(nmax &- 1, l)))
        }
        return 1 / iscale
    }
    let returnEarly = rmseType < 0
    let rmse = returnEarly ? -rmseType : rmseType
    @inline(__always) func weight(_ v: Float) -> Float {
        switch rmse {
        case 1: v * v
        case 2: 1
        case 3: v.magnitude
        default: v.magnitude.squareRoot()
        }
    }
    var sumlx: Float = 0
    var suml2: Float = 0
    for i in 0..<n {
        let l = Swift.max(-nmax, Swift.min(nmax &- 1, Int(nearestInt(iscale * x[i]))))
        levels[i] = Int8(truncatingIfNeeded: l &+ nmax)
        let w = weight(x[i])
        let fl = Float(l)
        sumlx += w * x[i] * fl
        suml2 += w * fl * fl
    }
    var scale: Float = suml2 != 0 ? sumlx / suml2 : 0
    if returnEarly { return suml2 > 0 ? 0.5 * (scale + 1 / iscale) : 1 / iscale }
    var best = scale * sumlx
    for step in -9...9 where step != 0 {
        iscale = -(Float(nmax) + 0.1 * Float(step)) / max
        sumlx = 0
        suml2 = 0
        for i in 0..<n {
            let l = Swift.max(-nmax, Swift.min(nmax &- 1, Int(nearestInt(iscale * x[i]))))
            let w = weight(x[i])
            let fl = Float(l)
            sumlx += w * x[i] * fl
            suml2 += w * fl * fl
        }
        if suml2 > 0 && sumlx * sumlx > best * suml2 {
            for i in 0..<n {
                let l = Int(nearestInt(iscale * x[i]))
                levels[i] = Int8(truncatingIfNeeded: nmax &+ Swift.max(-nmax, Swift.min(nmax &- 1, l)))
            }
            scale = sumlx / suml2
            best = scale * sumlx
        }
    }
    return scale
}

/// Signed symmetric quantization of `n` values to levels `-nmax ..< nmax` (stored as
/// `level + nmax`; an all-zero group stores zeros), refined with `doRmse` by up to five passes of
/// coordinate descent on the `x²`-weighted error; returns the scale.
///
/// Bit-exact with `make_q3_quants` in `ggml-quants.c`.
@inline(__always)
internal func makeQ3Quants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<Int8>,
    doRmse: Bool
) -> Float {
    let (max, amax) = signedMaxMagnitude(n, x)
    if amax < kGroupMaxEps {
        for i in 0..<n { levels[i] = 0 }
        return 0
    }
    let iscale = Float(-nmax) / max
    if doRmse {
        var sumlx: Float = 0
        var suml2: Float = 0
        for i in 0..<n {
            let l = Swift.max(-nmax, Swift.min(nmax &- 1, Int(nearestInt(iscale * x[i]))))
            levels[i] = Int8(truncatingIfNeeded: l)
            let w = x[i] * x[i]
            let fl = Float(l)
            sumlx += w * x[i] * fl
            suml2 += w * fl * fl
        }
        for _ in 0..<5 {
            var changed = false
            for i in 0..<n {
                let w = x[i] * x[i]
                let li = Float(levels[i])
                var slx = sumlx - w * x[i] * li
                if slx > 0 {
                    var sl2 = suml2 - w * li * li
                    let newL = Swift.max(-nmax, Swift.min(nmax &- 1, Int(nearestInt(x[i] * sl2 / slx))))
                    if newL != Int(levels[i]) {
                        let fl = Float(newL)
                        slx += w * x[i] * fl
                        sl2 += w * fl * fl
                        if sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2 {
                            levels[i] = Int8(truncatingIfNeeded: newL)
                            sumlx = slx
                            suml2 = sl2
                            changed = true
                        }
                    }
                }
            }
            if !changed { break }
        }
        for i in 0..<n { levels[i] = levels[i] &+ Int8(truncatingIfNeeded: nmax) }
        return suml2 > 0 ? sumlx / suml2 : 0
    }
    for i in 0..<n {
        let l = Swift.max(-nmax, Swift.min(nmax &- 1, Int(nearestInt(iscale * x[i]))))
        levels[i] = Int8(truncatingIfNeeded: l &+ nmax)
    }
    return 1 / iscale
}

/// Asymmetric quantization of `n` values to levels `0 ... nmax` with `x ≈ scale · level - min`
/// (`min ≥ 0`): starts from the range `[min(x, 0), max(x)]`, then tries `nstep + 1` inverse scales
/// `(rmin + rdelta·k + nmax) / range`, solving a weighted least-squares fit of scale and offset for
/// each and keeping the one with the smallest weighted error (absolute with `useMad`, else squared).
/// `scratch` holds `n` bytes of candidate levels.
///
/// Bit-exact with `make_qkx2_quants` in `ggml-quants.c`; returns `(scale, *the_min)`.
@inline(__always)
internal func makeQKX2Quants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, weights: UnsafePointer<Float>,
    _ levels: UnsafeMutablePointer<UInt8>, scratch laux: UnsafeMutablePointer<UInt8>,
    rmin: Float, rdelta: Float, nstep: Int, useMad: Bool
) -> (scale: Float, min: Float) {
    var min = x[0]
    var max = x[0]
    var sumW = weights[0]
    var sumX = sumW * x[0]
    for i in 1..<n {
        if x[i] < min { min = x[i] }
        if x[i] > max { max = x[i] }
        let w = weights[i]
        sumW += w
        sumX += w * x[i]
    }
    if min > 0 { min = 0 }
    if max == min {
        for i in 0..<n { levels[i] = 0 }
        return (0, -min)
    }
    let fmax = Float(nmax)
    let nmax32 = Int32(nmax)
    var iscale = fmax / (max - min)
    var scale = 1 / iscale
    var bestError: Float = 0
    for i in 0..<n {
        let l = Swift.max(0, Swift.min(nmax32, nearestInt(iscale * (x[i] - min))))
        levels[i] = UInt8(truncatingIfNeeded: l)
        var diff = scale * Float(l) + min - x[i]
        diff = useMad ? diff.magnitude : diff * diff
        bestError += weights[i] * diff
    }
    if nstep < 1 { return (scale, -min) }
    for step in 0...nstep {
        iscale = (rmin + rdelta * Float(step) + fmax) / (max - min)
        var sumL: Float = 0
        var sumL2: Float = 0
        var sumXL: Float = 0
        for i in 0..<n {
            let l = Swift.max(0, Swift.min(nmax32, nearestInt(iscale * (x[i] - min))))
            laux[i] = UInt8(truncatingIfNeeded: l)
            let w = weights[i]
            let fl = Float(l)
            sumL += w * fl
            sumL2 += w * fl * fl
            sumXL += w * fl * x[i]
        }
        let det = sumW * sumL2 - sumL * sumL
        if det > 0 {
            var thisScale = (sumW * sumXL - sumX * sumL) / det
            var thisMin = (sumL2 * sumX - sumL * sumXL) / det
            if thisMin > 0 {
                thisMin = 0
                thisScale = sumXL / sumL2
            }
            var curError: Float = 0
            for i in 0..<n {
                var diff = thisScale * Float(laux[i]) + thisMin - x[i]
                diff = useMad ? diff.magnitude : diff * diff
                curError += weights[i] * diff
            }
            if curError < bestError {
                for i in 0..<n { levels[i] = laux[i] }
                bestError = curError
                scale = thisScale
                min = thisMin
            }
        }
    }
    return (scale, -min)
}

/// The 6-bit scale and 6-bit min of sub-block `j` (0..<8) from the 12 packed bytes of a Q4_K or
/// Q5_K super-block.
///
/// Same as `get_scale_min_k4` in `ggml-quants.c`.
@inline(__always)
internal func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (q[j] & 63, q[j &+ 4] & 63)
    }
    return ((q[j &+ 4] & 0xF) | ((q[j &- 4] &>> 6) &<< 4),
            (q[j &+ 4] &>> 4) | ((q[j] &>> 6) &<< 4))
}

/// Packs 256 two-bit levels (`levels[i] < 4`) the K-quant way: byte `32·h + l` of the 64 output
/// bytes holds levels `128·h + l + 32·s` in bits `2s ..< 2s+2` (as in Q2_K's and Q3_K's `qs`).
@inline(__always)
internal func packTwoBitLevels(_ levels: UnsafePointer<UInt8>, into qs: UnsafeMutablePointer<UInt8>) {
    for j in stride(from: 0, to: kQK, by: 128) {
        for l in 0..<32 {
            qs[j / 4 &+ l] = levels[j &+ l] | (levels[j &+ l &+ 32] &<< 2)
                | (levels[j &+ l &+ 64] &<< 4) | (levels[j &+ l &+ 96] &<< 6)
        }
    }
}
