extension Q5_1: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_q5_1`: `quantize_row_q5_1_impl` per row with
    /// importance weights (`make_qkx3_quants(32, 31, …)`; `m` = minus the fitted minimum),
    /// `quantize_row_q5_1_ref` without.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / 32) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            let levels = buffer.baseAddress!
            forEachWeightedLegacyBlock(rows: rows, rowLength: rowLength, blockBytes: blockBytes, src, dst,
                                       importance: importance) { x, block, weights in
                let (d, min) = makeQKX3Quants(32, 31, x, weights: weights, levels, scratch: levels + 32,
                                              rmin: -0.9, rdelta: 0.05, nstep: 36, useMad: false)
                block.storeHalf(floatToHalf(d), at: 0)
                block.storeHalf(floatToHalf(-min), at: 2)
                block.storeBytes(of: fifthBits32(levels).littleEndian, toByteOffset: 4, as: UInt32.self)
                packNibbles32(levels, into: block + 8)
            }
        }
    }
}
