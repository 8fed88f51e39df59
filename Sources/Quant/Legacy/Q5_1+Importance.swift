extension Q5_1: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_q5_1`: `quantize_row_q5_1_impl` per row with
    /// importance weights (`make_qkx3_quants(32, 31, …)`; `m` = minus the fitted minimum),
    /// `quantize_row_q5_1_ref` without.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / 32) }
        quantizeWeightedAsymmetric(nmax: 31, blockBytes: blockBytes, src, into: dst, rows: rows, rowLength: rowLength,
                                   importance: importance) { levels, block in
            block.storeBytes(of: fifthBits32(levels).littleEndian, toByteOffset: 4, as: UInt32.self)
            packNibbles32(levels, into: block + 8)
        }
    }
}
