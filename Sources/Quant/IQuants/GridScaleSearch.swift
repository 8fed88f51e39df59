/// The scale search IQ2_XS (`quantize_row_iq2_xs_impl`) and IQ3_XXS/IQ3_S (`quantize_row_iq3_xxs_impl`,
/// `quantize_row_iq3_s_impl`) run on one group of `count` magnitudes `xval`, `search.dimensions` a
/// grid point: for each trial inverse scale `(2·kMaxQ − 1 + trial·step)/max`, every point's levels are
/// rounded and, when off the grid, replaced by the best listed neighbour; the trial with the best
/// weighted fit wins. Points that were off the grid are then re-searched at the winning scale, which
/// is refit. Writes the levels to `L` (all on the grid) and returns the scale.
///
/// IQ3_S differs in two details, selected by `iq3s`: before any trial wins, points count as off the
/// grid (so the refit runs when none wins), and the refit re-searches every point, not only those off
/// the grid.
@inline(__always)
func gridScaleSearch(_ count: Int, kMaxQ: Int32, trials: ClosedRange<Int>, step: Float, max: Float,
                     _ xval: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ waux: UnsafePointer<Float>,
                     _ search: LatticeSearch, bits: Int,
                     _ L: UnsafeMutablePointer<Int8>, _ Laux: UnsafeMutablePointer<Int8>, iq3s: Bool = false) -> Float {
    let dims = search.dimensions
    let points = count / dims
    var onGrid: UInt32 = iq3s ? 0 : ~0, onGridAux: UInt32 = ~0
    var best: Float = 0
    var scale = max / Float(2 * kMaxQ - 1)
    for i in 0..<count { L[i] = 0 }
    for trial in trials {
        let id = (Float(2 * kMaxQ - 1) + Float(trial) * step) / max
        let thisScale = 1 / id
        onGridAux = ~0
        for k in 0..<points {
            for i in 0..<dims { Laux[dims * k + i] = oddLevel(id, xval[dims * k + i], maxLevel: kMaxQ - 1) }
            let entry = search.map[levelKey(Laux + dims * k, dims, bits)]
            if entry < 0 {
                onGridAux &= ~(1 << UInt32(k))
                _ = search.bestNeighbour(entry, xval + dims * k, waux + dims * k, scale: thisScale, Laux + dims * k)
            }
        }
        var sumqx: Float = 0, sumq2: Float = 0
        for i in 0..<count {
            let w = weight[i]
            let q = Float(2 * Int32(Laux[i]) + 1)
            sumqx += w * xval[i] * q
            sumq2 += w * q * q
        }
        if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
            scale = sumqx / sumq2
            best = scale * sumqx
            L.update(from: Laux, count: count)
            onGrid = onGridAux
        }
    }
    let allOnGrid: UInt32 = points == 32 ? ~0 : (1 << UInt32(points)) - 1
    if onGrid & allOnGrid != allOnGrid && scale > 0 {
        let id = 1 / scale
        for k in 0..<points where iq3s || onGrid & (1 << UInt32(k)) == 0 {
            for i in 0..<dims { L[dims * k + i] = oddLevel(id, xval[dims * k + i], maxLevel: kMaxQ - 1) }
            let entry = search.map[levelKey(L + dims * k, dims, bits)]
            if entry < 0 {
                _ = search.bestNeighbour(entry, xval + dims * k, waux + dims * k, scale: scale, L + dims * k)
            }
        }
        var sumqx: Float = 0, sumq2: Float = 0
        for i in 0..<count {
            let w = weight[i]
            let q = Float(2 * Int32(L[i]) + 1)
            sumqx += w * xval[i] * q
            sumq2 += w * q * q
        }
        if sumq2 > 0 { scale = sumqx / sumq2 }
    }
    return scale
}

/// The map key of a point's levels: `u |= L[i] << bits·i` in ggml.
@inline(__always)
func levelKey(_ L: UnsafePointer<Int8>, _ dims: Int, _ bits: Int) -> Int {
    var u = 0
    for i in 0..<dims { u |= Int(L[i]) << (bits * i) }
    return u
}
