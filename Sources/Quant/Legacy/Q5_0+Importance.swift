extension Q5_0: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_q5_0`: `quantize_row_q5_0_impl` per row with
    /// importance weights (`make_qx_quants(32, 16, …, 1, weights)`), `quantize_row_q5_0_ref` without.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / 32) }
        quantizeWeightedSymmetric(nmax: 16, blockBytes: blockBytes, src, into: dst, rows: rows, rowLength: rowLength,
                                  importance: importance) { levels, block in
            block.storeBytes(of: fifthBits32(levels).littleEndian, toByteOffset: 2, as: UInt32.self)
            packNibbles32(levels, into: block + 6)
        }
    }
}
