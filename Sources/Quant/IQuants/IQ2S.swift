import GGUF

/// `IQ2_S`: super-blocks of 256 weights in 8 groups of 32, each group 4 points of the 1024-point grid
/// `iq2s_grid` with explicit sign bytes, and two 4-bit scales a group; 82 bytes (2.5625 bpw).
///
/// Layout (`block_iq2_s`): `d` (F16), `qs[64]` (the low 8 bits of the 32 grid indices, then the 32 sign
/// bytes), `qh[8]` (a group's 4 high index bit pairs, bits `2l…2l+1`), `scales[8]` (as IQ2_XS);
/// `x = d·(0.5 + s)·0.25·grid·sign`.
public enum IQ2_S: WeightedBlockQuantizer, LatticeQuantizer {

    public static var type: GGMLType { .iq2_S }

    @inlinable static var blockBytes: Int { 82 }
    static var search: LatticeSearch { iq2sSearch }

    /// Bit-exact with llama.cpp's `dequantize_row_iq2_s`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        iq2sGrid.withUnsafeBufferPointer { grid in
            for i in 0..<blocks {
                let block = src + i &* blockBytes
                let d = block.loadHalf(at: 0)
                for ib32 in 0..<8 {
                    let scales = block.load(fromByteOffset: 74 &+ ib32, as: UInt8.self)
                    let db0 = d * (0.5 + Float(scales & 0xF)) * 0.25
                    let db1 = d * (0.5 + Float(scales &>> 4)) * 0.25
                    let qh = Int(block.load(fromByteOffset: 66 &+ ib32, as: UInt8.self))
                    for l in 0..<4 {
                        let low = Int(block.load(fromByteOffset: 2 &+ 4 &* ib32 &+ l, as: UInt8.self))
                        let signs = block.load(fromByteOffset: 34 &+ 4 &* ib32 &+ l, as: UInt8.self)
                        let index = low | (qh &<< (8 &- 2 &* l)) & 0x300
                        writeSignedGroup(grid[index], signs: signs, scale: l < 2 ? db0 : db1,
                                         into: dst + (i &* 256 &+ 32 &* ib32 &+ 8 &* l))
                    }
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_iq2_s` (`quantize_row_iq2_s_impl`, row by row); without
    /// importance weights, each element weighs `sigma2/4 + x²` as there.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int, rowLength: Int,
                                importance: UnsafePointer<Float>?) {
        quantizeRows(src, into: dst, rows: rows, rowLength: rowLength, importance: importance)
    }

    static func quantizeBlock(_ xbl: UnsafePointer<Float>, _ quantWeights: UnsafePointer<Float>?, _ search: LatticeSearch,
                              _ s: IQScratch, into block: UnsafeMutableRawPointer) {
        let weight = s.weight, waux = s.waux, xval = s.xval, L = s.L, Laux = s.Laux, scales = s.scales
        block.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
        var maxScale: Float = 0
        let sigma2 = 2 * superBlockMeanSquare(xbl)  // 2*sumx2/QK_K: scaling by 2 is exact
        for ib in 0..<16 {
            let xb = xbl + 16 * ib
            if let quantWeights {
                importanceWeights(xb, quantWeights + 16 * ib, sigma2: sigma2, 16, into: weight)
            } else {
                for i in 0..<16 { weight[i] = 0.25 * sigma2 + xb[i] * xb[i] }
            }
            for i in 0..<16 { waux[i] = weight[i].squareRoot() }
            var signs: UInt16 = 0
            for i in 0..<16 {
                if xb[i] >= 0 {
                    xval[i] = xb[i]
                } else {
                    xval[i] = -xb[i]
                    signs |= 1 << UInt16(i)
                }
            }
            var max = xval[0]
            for i in 1..<16 { max = max > xval[i] ? max : xval[i] }
            if max < 1e-8 {
                scales[ib] = 0
                continue
            }
            var scale = gridScaleSearch(16, kMaxQ: 3, trials: -9...9, step: 0.1, max: max, xval, weight, waux,
                                        search, bits: 2, L, Laux)
            if scale < 0 {
                scale = -scale
                signs = ~signs
            }
            for k in 0..<2 {
                // On the grid by construction (ggml aborts otherwise).
                let index = Int(Swift.max(0, search.map[levelKey(L + 8 * k, 8, 2)]))
                let i8 = 2 * ib + k
                block.storeBytes(of: UInt8(index & 255), toByteOffset: 2 + i8, as: UInt8.self)
                let qh = block.load(fromByteOffset: 66 + i8 / 4, as: UInt8.self)
                block.storeBytes(of: qh | UInt8(index >> 8) << UInt8(2 * (i8 % 4)), toByteOffset: 66 + i8 / 4, as: UInt8.self)
                block.storeBytes(of: UInt8(truncatingIfNeeded: signs >> UInt16(8 * k)), toByteOffset: 34 + i8, as: UInt8.self)
            }
            scales[ib] = scale
            maxScale = maxScale > scale ? maxScale : scale
        }
        if maxScale == 0 { return }
        let d = maxScale / 31
        block.storeHalf(floatToHalf(d * 0.9875), at: 0)
        let id = 1 / d
        for ib in 0..<16 {
            let l = UInt8(Swift.max(0, Swift.min(15, nearestInt(0.5 * (id * scales[ib] - 1)))))
            let old = block.load(fromByteOffset: 74 + ib / 2, as: UInt8.self)
            block.storeBytes(of: ib % 2 == 0 ? l : old | l << 4, toByteOffset: 74 + ib / 2, as: UInt8.self)
        }
    }
}
