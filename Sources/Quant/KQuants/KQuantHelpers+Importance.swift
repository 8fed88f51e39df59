// The searches of llama.cpp's `ggml-quants.c` that take per-element weights (an importance matrix's
// values scaled by the data), used by the `quantize_row_<type>_impl` functions llama-quantize runs with
// `--imatrix`. Same single-precision operations in the same order as the C code, including its
// conversions (`int` → `Float`, truncation into `int8_t`/`uint8_t`). Pointers are trusted: callers pass
// buffers of at least `n` elements.

/// Fills `weights[0..<n]` with `importance[i] · √(sigma2 + x[i]²)`, the weighting every `_impl`
/// quantizer derives from an importance matrix (`qw[l] * sqrtf(sigma2 + x[l]*x[l])`).
@inline(__always)
internal func importanceWeights(
    _ n: Int, _ x: UnsafePointer<Float>, importance qw: UnsafePointer<Float>, sigma2: Float,
    into weights: UnsafeMutablePointer<Float>
) {
    for l in 0..<n { weights[l] = qw[l] * (sigma2 + x[l] * x[l]).squareRoot() }
}

/// The sum of squares of `n` floats, accumulated in order (`sumx2 += x[j]*x[j]`).
@inline(__always)
internal func sumOfSquares(_ n: Int, _ x: UnsafePointer<Float>) -> Float {
    var sum: Float = 0
    for j in 0..<n { sum += x[j] * x[j] }
    return sum
}

/// Signed symmetric quantization of `n` values to levels `-nmax ..< nmax` (stored as `level + nmax`),
/// the scale refined over 18 candidate inverse scales by least squares weighted with `weights`.
///
/// Bit-exact with `make_qx_quants(n, nmax, x, L, 1, qw)` in `ggml-quants.c` with `qw != NULL`.
@inline(__always)
internal func makeQXQuants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<Int8>,
    weights qw: UnsafePointer<Float>
) -> Float {
    let (max, amax) = signedMaxMagnitude(n, x)
    if amax < kGroupMaxEps {
        for i in 0..<n { levels[i] = 0 }
        return 0
    }
    @inline(__always) func level(_ iscale: Float, _ v: Float) -> Int {
        Swift.max(-nmax, Swift.min(nmax &- 1, Int(nearestInt(iscale * v))))
    }
    var iscale = Float(-nmax) / max
    var sumlx: Float = 0
    var suml2: Float = 0
    for i in 0..<n {
        let l = level(iscale, x[i])
        levels[i] = Int8(truncatingIfNeeded: l &+ nmax)
        let fl = Float(l)
        sumlx += qw[i] * x[i] * fl
        suml2 += qw[i] * fl * fl
    }
    var scale: Float = suml2 != 0 ? sumlx / suml2 : 0
    var best = scale * sumlx
    for step in -9...9 where step != 0 {
        iscale = -(Float(nmax) + 0.1 * Float(step)) / max
        sumlx = 0
        suml2 = 0
        for i in 0..<n {
            let fl = Float(level(iscale, x[i]))
            sumlx += qw[i] * x[i] * fl
            suml2 += qw[i] * fl * fl
        }
        if suml2 > 0 && sumlx * sumlx > best * suml2 {
            for i in 0..<n { levels[i] = Int8(truncatingIfNeeded: nmax &+ level(iscale, x[i])) }
            scale = sumlx / suml2
            best = scale * sumlx
        }
    }
    return scale
}

/// Asymmetric quantization of `n` values to levels `0 ... nmax` with `x ≈ scale · level − min`
/// (`min ≥ 0`), searching `nstep + 1` inverse scales with a weighted least-squares fit of scale and
/// offset each; `scratch` holds `n` bytes of candidate levels.
///
/// Bit-exact with `make_qkx3_quants` in `ggml-quants.c` with `weights != NULL`; returns
/// `(scale, *the_min)`.
@inline(__always)
internal func makeQKX3Quants(
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
        sumW += weights[i]
        sumX += weights[i] * x[i]
    }
    if min > 0 { min = 0 }
    if max <= min {
        for i in 0..<n { levels[i] = 0 }
        return (0, -min)
    }
    let nmax32 = Int32(nmax)
    @inline(__always) func error(_ scale: Float, _ level: UInt8, _ offset: Float, _ i: Int) -> Float {
        let diff = scale * Float(level) + offset - x[i]
        return weights[i] * (useMad ? diff.magnitude : diff * diff)
    }
    var iscale = Float(nmax) / (max - min)
    var scale = 1 / iscale
    var bestMad: Float = 0
    for i in 0..<n {
        levels[i] = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(nmax32, nearestInt(iscale * (x[i] - min)))))
        bestMad += error(scale, levels[i], min, i)
    }
    if nstep < 1 { return (scale, -min) }
    for step in 0...nstep {
        iscale = (rmin + rdelta * Float(step) + Float(nmax)) / (max - min)
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
            var mad: Float = 0
            for i in 0..<n { mad += error(thisScale, laux[i], thisMin, i) }
            if mad < bestMad {
                for i in 0..<n { levels[i] = laux[i] }
                bestMad = mad
                scale = thisScale
                min = thisMin
            }
        }
    }
    return (scale, -min)
}

/// Quantization of `n` non-negative values (group scales or mins) to levels `0 ... nmax` with one
/// scale: 9 candidate inverse scales by weighted squared error, then up to five passes of coordinate
/// descent on the weighted least-squares fit; returns the scale.
///
/// Bit-exact with `make_qp_quants` in `ggml-quants.c`, including its stores of `int` levels into
/// `uint8_t`.
@inline(__always)
internal func makeQPQuants(
    _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<UInt8>,
    weights qw: UnsafePointer<Float>
) -> Float {
    var max: Float = 0
    for i in 0..<n { max = max > x[i] ? max : x[i] }  // ggml's MAX(max, x[i]), NaN included
    if max < kGroupMaxEps {
        for i in 0..<n { levels[i] = 0 }
        return 0
    }
    let nmax32 = Int32(nmax)
    var iscale = Float(nmax) / max
    for i in 0..<n { levels[i] = UInt8(truncatingIfNeeded: nearestInt(iscale * x[i])) }
    let scale = 1 / iscale
    var bestMse: Float = 0
    for i in 0..<n {
        let diff = x[i] - scale * Float(levels[i])
        bestMse += qw[i] * diff * diff
    }
    for step in -4...4 where step != 0 {
        let iscaleStep = (0.1 * Float(step) + Float(nmax)) / max
        let scaleStep = 1 / iscaleStep
        var mse: Float = 0
        for i in 0..<n {
            let l = Swift.min(nmax32, nearestInt(iscaleStep * x[i]))
            let diff = x[i] - scaleStep * Float(l)
            mse += qw[i] * diff * diff
        }
        if mse < bestMse {
            bestMse = mse
            iscale = iscaleStep
        }
    }
    var sumlx: Float = 0
    var suml2: Float = 0
    for i in 0..<n {
        let l = Swift.min(nmax32, nearestInt(iscale * x[i]))
        levels[i] = UInt8(truncatingIfNeeded: l)
        let fl = Float(l)
        sumlx += qw[i] * x[i] * fl
        suml2 += qw[i] * fl * fl
    }
    for _ in 0..<5 {
        var changed = false
        for i in 0..<n {
            let w = qw[i]
            let li = Float(levels[i])
            var slx = sumlx - w * x[i] * li
            var sl2 = suml2 - w * li * li
            if slx > 0 && sl2 > 0 {
                let newL = Swift.min(nmax32, nearestInt(x[i] * sl2 / slx))
                if newL != Int32(levels[i]) {
                    let fl = Float(newL)
                    slx += w * x[i] * fl
                    sl2 += w * fl * fl
                    if slx * slx * suml2 > sumlx * sumlx * sl2 {
                        levels[i] = UInt8(truncatingIfNeeded: newL)
                        sumlx = slx
                        suml2 = sl2
                        changed = true
                    }
                }
            }
        }
        if !changed { break }
    }
    return suml2 > 0 ? sumlx / suml2 : 0
}
