extension Q6_K: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_q6_K`: `quantize_row_q6_K_impl` per row, whose group
    /// fits weight each element by its importance value alone (`make_qx_quants(…, 1, qw)`), with
    /// importance weights; `quantize_row_q6_K_ref` without.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / kQK) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { floats in
            withUnsafeTemporaryAllocation(of: Int8.self, capacity: kQK) { bytes in
                let scales = floats.baseAddress!
                let levels = bytes.baseAddress!
                forEachBlock(rows: rows, rowLength: rowLength, blockSize: kQK, blockBytes: blockBytes, src, dst,
                             importance: importance) { x, block, qw, _ in
                    var maxScale: Float = 0
                    var maxAbsScale: Float = 0
                    for j in 0..<16 {
                        let scale = makeQXQuants(16, 32, x + 16 &* j, levels + 16 &* j, weights: qw + 16 &* j)
                        scales[j] = scale
                        if scale.magnitude > maxAbsScale {
                            maxAbsScale = scale.magnitude
                            maxScale = scale
                        }
                    }
                    let packed = block.assumingMemoryBound(to: UInt8.self)
                    if maxAbsScale < kGroupMaxEps {
                        for b in 0..<blockBytes { packed[b] = 0 }
                        return
                    }
                    let iscale = -128 / maxScale
                    block.storeHalf(floatToHalf(1 / iscale), at: 208)
                    let sc = packed + 192
                    for j in 0..<16 {
                        sc[j] = UInt8(truncatingIfNeeded: Swift.min(127, Int(nearestInt(iscale * scales[j]))))
                    }
                    // Requantize against the rounded scales, then pack as `quantize_row_q6_K_ref` does.
                    let dAll = UnsafeRawPointer(block).loadHalf(at: 208)
                    for j in 0..<16 {
                        let d = dAll * Float(Int8(bitPattern: sc[j]))
                        if d == 0 { continue }
                        for l in 0..<16 {
                            let q = Swift.max(-32, Swift.min(31, Int(nearestInt(x[16 &* j &+ l] / d))))
                            levels[16 &* j &+ l] = Int8(truncatingIfNeeded: q &+ 32)
                        }
                    }
                    for half in 0..<2 {
                        let ql = packed + 64 &* half
                        let qh = packed + (128 &+ 32 &* half)
                        for l in 0..<32 {
                            let lh = 128 &* half &+ l
                            let l1 = UInt8(bitPattern: levels[lh]), l2 = UInt8(bitPattern: levels[lh &+ 32])
                            let l3 = UInt8(bitPattern: levels[lh &+ 64]), l4 = UInt8(bitPattern: levels[lh &+ 96])
                            ql[l] = (l1 & 0xF) | ((l3 & 0xF) &<< 4)
                            ql[l &+ 32] = (l2 & 0xF) | ((l4 & 0xF) &<< 4)
                            qh[l] = (l1 &>> 4) | ((l2 &>> 4) &<< 2) | ((l3 &>> 4) &<< 4) | ((l4 &>> 4) &<< 6)
                        }
                    }
                }
            }
        }
    }
}
