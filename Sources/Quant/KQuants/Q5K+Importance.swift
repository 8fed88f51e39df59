extension Q5_K: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_q5_K`: `quantize_row_q5_K_impl` per row with
    /// importance weights, `quantize_row_q5_K_ref` without.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / kQK) }
        Q4_K.withWeightedScaleMinScratch { scratch in
            forEachBlock(rows: rows, rowLength: rowLength, blockSize: kQK, blockBytes: blockBytes, src, dst,
                         importance: importance) { x, block, qw, _ in
                Q4_K.quantizeWeightedScalesAndLevels(x, importance: qw, into: block, nmax: 31, clampScales: true,
                                                     scratch: scratch)
                packFiveBitLevels(scratch.levels, into: block)
            }
        }
    }
}

/// Packs 256 five-bit levels into a Q5_K block's `qh[32]` (bytes 16..<48: bit `2c` / `2c + 1` of
/// `qh[l]` is the fifth bit of level `64c + l` / `64c + 32 + l`) and `qs[128]` (bytes 48..<176, low
/// nibbles as in Q4_K), as the tail of `quantize_row_q5_K_impl` does.
@inline(__always)
private func packFiveBitLevels(_ levels: UnsafePointer<UInt8>, into block: UnsafeMutableRawPointer) {
    let qh = block.assumingMemoryBound(to: UInt8.self) + 16
    for l in 0..<32 { qh[l] = 0 }
    for chunk in 0..<4 {
        let lc = levels + 64 &* chunk
        let ql = qh + (32 &+ 32 &* chunk)
        let m1 = UInt8(1) &<< UInt8(truncatingIfNeeded: 2 &* chunk)
        for l in 0..<32 {
            let l1 = lc[l], l2 = lc[32 &+ l]
            if l1 > 15 { qh[l] |= m1 }
            if l2 > 15 { qh[l] |= m1 &<< 1 }
            ql[l] = (l1 & 0xF) | ((l2 & 0xF) &<< 4)
        }
    }
}
