extension Q4_K: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_q4_K`: `quantize_row_q4_K_impl` per row with
    /// importance weights, `quantize_row_q4_K_ref` without.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / kQK) }
        withWeightedScaleMinScratch { scratch in
            forEachBlock(rows: rows, rowLength: rowLength, blockSize: kQK, blockBytes: blockBytes, src, dst,
                         importance: importance) { x, block, qw, _ in
                quantizeWeightedScalesAndLevels(x, importance: qw, into: block, nmax: 15, clampScales: false,
                                                scratch: scratch)
                let levels = scratch.levels
                let q = block.assumingMemoryBound(to: UInt8.self) + 16
                for chunk in 0..<4 {
                    let lc = levels + 64 &* chunk
                    let qc = q + 32 &* chunk
                    for l in 0..<32 { qc[l] = lc[l] | (lc[32 &+ l] &<< 4) }
                }
            }
        }
    }
}

// MARK: - The weighted scale-and-min scheme shared with Q5_K

/// Scratch for `Q4_K.quantizeWeightedScalesAndLevels`: 256 levels, 32 candidate levels, 8 + 8
/// quantized scales and mins; 32 weights, then 8 group weight sums, 8 group scales, 8 group mins.
struct WeightedScaleMinScratch {
    var levels: UnsafeMutablePointer<UInt8>
    var floats: UnsafeMutablePointer<Float>
}

extension Q4_K {
    /// Runs `body` with scratch for one call's worth of super-blocks (allocated on the stack once).
    @inline(__always)
    static func withWeightedScaleMinScratch(_ body: (WeightedScaleMinScratch) -> Void) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 56) { floats in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: kQK + 48) { bytes in
                body(WeightedScaleMinScratch(levels: bytes.baseAddress!, floats: floats.baseAddress!))
            }
        }
    }

    /// The part of `quantize_row_q4_K_impl` / `quantize_row_q5_K_impl` before the levels are packed:
    /// fits each group of 32 with `make_qkx3_quants` (weights `qw·√(σ² + x²)`), quantizes the group
    /// scales and mins with `make_qp_quants` (weighted by the groups' weight sums) into bytes 4..<16 of
    /// `block` (clamped to 63 first with `clampScales`, as Q5_K does) and the F16 `d`, `dmin` into
    /// bytes 0..<4, then requantizes every group against the rounded scales into `scratch.levels`.
    @inline(__always)
    static func quantizeWeightedScalesAndLevels(
        _ x: UnsafePointer<Float>, importance qw: UnsafePointer<Float>, into block: UnsafeMutableRawPointer,
        nmax: Int, clampScales: Bool, scratch: WeightedScaleMinScratch
    ) {
        let weights = scratch.floats, sw = weights + 32, groupScales = weights + 40, groupMins = weights + 48
        let levels = scratch.levels, laux = levels + kQK, ls = laux + 32, lm = ls + 8
        let sigma2 = 2 * sumOfSquares(kQK, x) / Float(kQK)
        for j in 0..<8 {
            importanceWeights(32, x + 32 &* j, importance: qw + 32 &* j, sigma2: sigma2, into: weights)
            var sum: Float = 0
            for l in 0..<32 { sum += weights[l] }
            sw[j] = sum
            (groupScales[j], groupMins[j]) = makeQKX3Quants(32, nmax, x + 32 &* j, weights: weights, levels + 32 &* j,
                                                            scratch: laux, rmin: -0.9, rdelta: 0.05, nstep: 36,
                                                            useMad: false)
        }
        let dBlock = makeQPQuants(8, 63, groupScales, ls, weights: sw)
        let mBlock = makeQPQuants(8, 63, groupMins, lm, weights: sw)
        let scales = block.assumingMemoryBound(to: UInt8.self) + 4
        for j in 0..<8 {
            let lsj = clampScales ? Swift.min(63, ls[j]) : ls[j]
            let lmj = clampScales ? Swift.min(63, lm[j]) : lm[j]
            if j < 4 {
                scales[j] = lsj
                scales[j &+ 4] = lmj
            } else {
                scales[j &+ 4] = (lsj & 0xF) | ((lmj & 0xF) &<< 4)
                scales[j &- 4] |= (lsj &>> 4) &<< 6
                scales[j] |= (lmj &>> 4) &<< 6
            }
        }
        block.storeHalf(floatToHalf(dBlock), at: 0)
        block.storeHalf(floatToHalf(mBlock), at: 2)

        // Requantize against the rounded scales.
        let dAll = UnsafeRawPointer(block).loadHalf(at: 0)
        let dminAll = UnsafeRawPointer(block).loadHalf(at: 2)
        for j in 0..<8 {
            let (sc, m) = scaleMinK4(j, scales)
            let d = dAll * Float(sc)
            if d == 0 { continue }
            let dm = dminAll * Float(m)
            for l in 0..<32 {
                let q = Int(nearestInt((x[32 &* j &+ l] + dm) / d))
                levels[32 &* j &+ l] = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(nmax, q)))
            }
        }
    }
}
