import GGUF

/// `IQ3_S`: super-blocks of 256 weights in 8 groups of 32, each group 8 points of the 512-point grid
/// `iq3s_grid` (4 magnitudes each) with explicit sign bytes, and a 4-bit scale a group; 110 bytes
/// (3.4375 bpw).
///
/// Layout (`block_iq3_s`): `d` (F16), `qs[64]` (the low 8 bits of the grid indices), `qh[8]` (a group's
/// 8 ninth index bits), `signs[32]`, `scales[4]` (group `2k` in the low nibble of byte `k`, `2k + 1` in
/// the high nibble); `x = d·(1 + 2s)·grid·sign`.
public enum IQ3_S: WeightedBlockQuantizer, LatticeQuantizer {
    public static var type: GGMLType { .iq3_S }

    @inlinable static var blockBytes: Int { 110 }
    static var search: LatticeSearch { iq3sSearch }

    /// Bit-exact with llama.cpp's `dequantize_row_iq3_s`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        iq3sGrid.withUnsafeBufferPointer { grid in
            for i in 0..<blocks {
                let block = src + i &* blockBytes
                let d = block.loadHalf(at: 0)
                for ib32 in 0..<8 {
                    let scale = block.load(fromByteOffset: 106 &+ ib32 &>> 1, as: UInt8.self) &>> (4 &* UInt8(ib32 & 1)) & 0xF
                    let db = d * Float(1 &+ 2 &* Int32(scale))
                    let qh = Int(block.load(fromByteOffset: 66 &+ ib32, as: UInt8.self))
                    for l in 0..<4 {
                        let qs = block + (2 &+ 8 &* ib32 &+ 2 &* l)
                        let index1 = Int(qs.load(as: UInt8.self)) | (qh &<< (8 &- 2 &* l)) & 256
                        let index2 = Int(qs.load(fromByteOffset: 1, as: UInt8.self)) | (qh &<< (7 &- 2 &* l)) & 256
                        let signs = block.load(fromByteOffset: 74 &+ 4 &* ib32 &+ l, as: UInt8.self)
                        let point = UInt64(grid[index1]) | UInt64(grid[index2]) &<< 32
                        writeSignedGroup(point, signs: signs, scale: db, into: dst + (i &* 256 &+ 32 &* ib32 &+ 8 &* l))
                    }
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_iq3_s` (`quantize_row_iq3_s_impl` with groups of 32,
    /// row by row); without importance weights, each element weighs `x²` as there.
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
        // ggml advances its `qs` and `signs` pointers only after a group it does not skip (an all-zero
        // group `continue`s before the increments), so later groups' indices and signs move down.
        var qs = 2, signsAt = 74
        for ib in 0..<8 {
            let xb = xbl + 32 * ib
            if let quantWeights {
                importanceWeights(xb, quantWeights + 32 * ib, sigma2: sigma2, 32, into: weight)
            } else {
                for i in 0..<32 { weight[i] = xb[i] * xb[i] }
            }
            for i in 0..<32 { waux[i] = weight[i].squareRoot() }
            var signs = (UInt32(0), UInt32(0))
            for i in 0..<32 {
                if xb[i] >= 0 {
                    xval[i] = xb[i]
                } else {
                    xval[i] = -xb[i]
                    if i < 16 { signs.0 |= 1 << UInt32(i) } else { signs.1 |= 1 << UInt32(i - 16) }
                }
            }
            var max = xval[0]
            for i in 1..<32 { max = max > xval[i] ? max : xval[i] }
            if max == 0 {
                scales[ib] = 0
                continue
            }
            var scale = gridScaleSearch(32, kMaxQ: 8, trials: -9...9, step: 0.2, max: max, xval, weight, waux,
                                        search, bits: 3, L, Laux, iq3s: true)
            if scale < 0 {
                scale = -scale
                signs = (~signs.0 & 0xFFFF, ~signs.1 & 0xFFFF)
            }
            for k in 0..<8 {
                // On the grid by construction (ggml aborts otherwise).
                let index = Int(Swift.max(0, search.map[levelKey(L + 4 * k, 4, 3)]))
                block.storeBytes(of: UInt8(index & 255), toByteOffset: qs + k, as: UInt8.self)
                let qh = block.load(fromByteOffset: 66 + ib, as: UInt8.self)
                block.storeBytes(of: qh | UInt8(index >> 8) << UInt8(k), toByteOffset: 66 + ib, as: UInt8.self)
            }
            block.storeBytes(of: UInt16(signs.0).littleEndian, toByteOffset: signsAt, as: UInt16.self)
            block.storeBytes(of: UInt16(signs.1).littleEndian, toByteOffset: signsAt + 2, as: UInt16.self)
            qs += 8
            signsAt += 4
            scales[ib] = scale
            maxScale = maxScale > scale ? maxScale : scale
        }
        if maxScale == 0 { return }
        let d = maxScale / 31
        block.storeHalf(floatToHalf(d * 1.033), at: 0)
        let id = 1 / d
        for ib in stride(from: 0, to: 8, by: 2) {
            let l1 = Swift.max(0, Swift.min(15, nearestInt(0.5 * (id * scales[ib] - 1))))
            let l2 = Swift.max(0, Swift.min(15, nearestInt(0.5 * (id * scales[ib + 1] - 1))))
            block.storeBytes(of: UInt8(l1 | l2 << 4), toByteOffset: 106 + ib / 2, as: UInt8.self)
        }
    }
}
