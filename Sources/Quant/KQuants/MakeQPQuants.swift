/// ggml's `make_qp_quants`: levels `0…nmax` for the non-negative values `x` (written to `L`) and the
/// scale minimizing `Σ w·(x − scale·l)²` found by its trial scales and 5 rounds of coordinate
/// descent; 0 when `max x < GROUP_MAX_EPS`. Same operations in the same order as ggml.
func makeQPQuants(_ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<UInt8>,
                  _ weights: UnsafePointer<Float>) -> Float {
    var max: Float = 0
    for i in 0..<n { max = max > x[i] ? max : x[i] }  // ggml's MAX(max, x[i])
    if max < 1e-15 {
        for i in 0..<n { L[i] = 0 }
        return 0
    }
    var iscale = Float(nmax) / max
    for i in 0..<n {
        L[i] = UInt8(truncatingIfNeeded: nearestInt(iscale * x[i]))
    }
    let scale = 1 / iscale
    var bestMSE: Float = 0
    for i in 0..<n {
        let diff = x[i] - scale * Float(L[i])
        bestMSE += weights[i] * diff * diff
    }
    for trial in -4...4 where trial != 0 {
        let iscaleTrial = (0.1 * Float(trial) + Float(nmax)) / max
        let scaleTrial = 1 / iscaleTrial
        var mse: Float = 0
        for i in 0..<n {
            let l = min(Int32(nmax), nearestInt(iscaleTrial * x[i]))
            let diff = x[i] - scaleTrial * Float(l)
            mse += weights[i] * diff * diff
        }
        if mse < bestMSE {
            bestMSE = mse
            iscale = iscaleTrial
        }
    }
    var sumlx: Float = 0, suml2: Float = 0
    for i in 0..<n {
        let l = min(Int32(nmax), nearestInt(iscale * x[i]))
        L[i] = UInt8(truncatingIfNeeded: l)
        let w = weights[i]
        sumlx += w * x[i] * Float(l)
        suml2 += w * Float(l) * Float(l)
    }
    for _ in 0..<5 {
        var changed = 0
        for i in 0..<n {
            let w = weights[i]
            let li = Float(L[i])
            var slx = sumlx - w * x[i] * li
            var sl2 = suml2 - w * li * li
            if slx > 0 && sl2 > 0 {
                let newL = min(Int32(nmax), nearestInt(x[i] * sl2 / slx))
                if newL != Int32(L[i]) {
                    slx += w * x[i] * Float(newL)
                    sl2 += w * Float(newL) * Float(newL)
                    if slx * slx * suml2 > sumlx * sumlx * sl2 {
                        L[i] = UInt8(truncatingIfNeeded: newL)
                        sumlx = slx
                        suml2 = sl2
                        changed += 1
                    }
                }
            }
        }
        if changed == 0 { break }
    }
    return suml2 > 0 ? sumlx / suml2 : 0
}
