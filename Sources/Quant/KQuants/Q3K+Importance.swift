extension Q3_K: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_q3_K`: `quantize_row_q3_K_impl` per row with
    /// importance weights (group and super-block scales by weighted `make_qx_quants`),
    /// `quantize_row_q3_K_ref` without.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / kQK) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 48) { floats in
            withUnsafeTemporaryAllocation(of: Int8.self, capacity: kQK + 16) { bytes in
                let weight = floats.baseAddress!, sw = weight + 16, scales = weight + 32
                let levels = bytes.baseAddress!, ls = levels + kQK
                forEachBlock(rows: rows, rowLength: rowLength, blockSize: kQK, blockBytes: blockBytes, src, dst,
                             importance: importance) { x, block, qw, _ in
                    let sigma2 = 2 * sumOfSquares(kQK, x) / Float(kQK)
                    for j in 0..<16 {
                        importanceWeights(16, x + 16 &* j, importance: qw + 16 &* j, sigma2: sigma2, into: weight)
                        var sum: Float = 0
                        for l in 0..<16 { sum += weight[l] }
                        sw[j] = sum
                        scales[j] = makeQXQuants(16, 4, x + 16 &* j, levels + 16 &* j, weights: weight)
                    }
                    let hmask = block.assumingMemoryBound(to: UInt8.self)
                    let qs = hmask + 32
                    let sc = hmask + 96
                    for j in 0..<12 { sc[j] = 0 }
                    let dBlock = makeQXQuants(16, 32, scales, ls, weights: sw)
                    for j in 0..<16 {
                        let l = Int(ls[j])
                        if j < 8 {
                            sc[j] = UInt8(truncatingIfNeeded: l & 0xF)
                        } else {
                            sc[j &- 8] |= UInt8(truncatingIfNeeded: (l & 0xF) &<< 4)
                        }
                        sc[j % 4 &+ 8] |= UInt8(truncatingIfNeeded: (l &>> 4) &<< (2 &* (j / 4)))
                    }
                    block.storeHalf(floatToHalf(dBlock), at: 108)
                    // Requantize against the rounded scales.
                    let dAll = UnsafeRawPointer(block).loadHalf(at: 108)
                    for j in 0..<16 {
                        let low = j < 8 ? Int(sc[j] & 0xF) : Int(sc[j &- 8] &>> 4)
                        let s = Int8(truncatingIfNeeded: (low | ((Int(sc[8 &+ j % 4]) &>> (2 &* (j / 4))) & 3) &<< 4) &- 32)
                        let d = dAll * Float(s)
                        if d == 0 { continue }
                        for l in 0..<16 {
                            let q = Swift.max(-4, Swift.min(3, Int(nearestInt(x[16 &* j &+ l] / d))))
                            levels[16 &* j &+ l] = Int8(truncatingIfNeeded: q &+ 4)
                        }
                    }
                    // The high bit of level j goes to bit j / 32 of hmask[j % 32]; qs gets the low two bits.
                    for j in 0..<32 { hmask[j] = 0 }
                    for j in 0..<kQK where levels[j] > 3 {
                        hmask[j & 31] |= UInt8(1) &<< UInt8(truncatingIfNeeded: j &>> 5)
                        levels[j] &-= 4
                    }
                    levels.withMemoryRebound(to: UInt8.self, capacity: kQK) { packTwoBitLevels($0, into: qs) }
                }
            }
        }
    }
}
