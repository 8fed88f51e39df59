extension Q2_K: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_q2_K`: `quantize_row_q2_K_impl` per row with
    /// importance weights (group fits by `make_qkx3_quants`, scales and mins by `make_qp_quants`),
    /// `quantize_row_q2_K_ref` without.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / kQK) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { floats in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: kQK + 48) { bytes in
                let weight = floats.baseAddress!, sw = weight + 16, scales = weight + 32, mins = weight + 48
                let levels = bytes.baseAddress!, laux = levels + kQK, ls = laux + 16, lm = ls + 16
                forEachBlock(rows: rows, rowLength: rowLength, blockSize: kQK, blockBytes: blockBytes, src, dst,
                             importance: importance) { x, block, qw, _ in
                    let sigma2 = sumOfSquares(kQK, x) / Float(kQK)
                    for j in 0..<16 {
                        importanceWeights(16, x + 16 &* j, importance: qw + 16 &* j, sigma2: sigma2, into: weight)
                        var sum: Float = 0
                        for l in 0..<16 { sum += weight[l] }
                        sw[j] = sum
                        (scales[j], mins[j]) = makeQKX3Quants(16, 3, x + 16 &* j, weights: weight, levels + 16 &* j,
                                                              scratch: laux, rmin: -0.9, rdelta: 0.05, nstep: 36,
                                                              useMad: false)
                    }
                    let dm = makeQPQuants(16, 15, scales, ls, weights: sw)
                    let mm = makeQPQuants(16, 15, mins, lm, weights: sw)
                    block.storeHalf(floatToHalf(dm), at: 80)
                    block.storeHalf(floatToHalf(mm), at: 82)
                    let d = UnsafeRawPointer(block).loadHalf(at: 80)
                    let dmin = UnsafeRawPointer(block).loadHalf(at: 82)
                    let packed = block.assumingMemoryBound(to: UInt8.self)
                    for j in 0..<16 { packed[j] = ls[j] | (lm[j] &<< 4) }
                    // Requantize against the rounded scales.
                    for j in 0..<16 {
                        let dl = d * Float(packed[j] & 0xF)
                        if dl == 0 { continue }
                        let ml = dmin * Float(packed[j] &>> 4)
                        for l in 0..<16 {
                            let q = nearestInt((x[16 &* j &+ l] + ml) / dl)
                            levels[16 &* j &+ l] = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(3, q)))
                        }
                    }
                    packTwoBitLevels(levels, into: packed + 16)
                }
            }
        }
    }
}
