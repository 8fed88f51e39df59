extension Q4_0: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_q4_0`: `quantize_row_q4_0_impl` per row with
    /// importance weights (`make_qx_quants(32, 8, …, 1, weights)`), `quantize_row_q4_0_ref` without.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / 32) }
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 32) { buffer in
            let signed = buffer.baseAddress!
            forEachWeightedLegacyBlock(rows: rows, rowLength: rowLength, blockBytes: blockBytes, src, dst,
                                       importance: importance) { x, block, weights in
                let d = makeQXQuants(32, 8, x, signed, weights: weights)
                block.storeHalf(floatToHalf(d), at: 0)
                signed.withMemoryRebound(to: UInt8.self, capacity: 32) { levels in
                    packNibbles32(levels, into: block + 2)
                }
            }
        }
    }
}
