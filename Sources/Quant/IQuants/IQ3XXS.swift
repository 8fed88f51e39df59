import GGUF

/// `IQ3_XXS`: super-blocks of 256 weights in 8 groups of 32, each group 8 points of the 256-point grid
/// `iq3xxs_grid` (4 magnitudes each) with 7-bit sign indices and a 4-bit scale; 98 bytes (3.0625 bpw).
///
/// Layout (`block_iq3_xxs`): `d` (F16), `qs[64]` (grid indices, 8 a group), then a little-endian u32 a
/// group: 4 sign indices (7 bits each) and the scale `s` in bits 28–31; `x = d·(0.5 + s)·0.5·grid·sign`.
public enum IQ3_XXS: WeightedBlockQuantizer, LatticeQuantizer {

    public static var type: GGMLType { .iq3_XXS }

    @inlinable static var blockBytes: Int { 98 }
    static var search: LatticeSearch { iq3xxsSearch }

    /// Bit-exact with llama.cpp's `dequantize_row_iq3_xxs`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        iq3xxsGrid.withUnsafeBufferPointer { grid in
            iqSigns.withUnsafeBufferPointer { ksigns in
                for i in 0..<blocks {
                    let block = src + i &* blockBytes
                    let d = block.loadHalf(at: 0)
                    for ib32 in 0..<8 {
                        let aux = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 66 &+ 4 &* ib32, as: UInt32.self))
                        let db = d * (0.5 + Float(aux &>> 28)) * 0.5
                        for l in 0..<4 {
                            let signs = ksigns[Int(aux &>> (7 &* UInt32(l)) & 127)]
                            let qs = block + (2 &+ 8 &* ib32 &+ 2 &* l)
                            let point = UInt64(grid[Int(qs.load(as: UInt8.self))])
                                | UInt64(grid[Int(qs.load(fromByteOffset: 1, as: UInt8.self))]) &<< 32
                            writeSignedGroup(point, signs: signs, scale: db, into: dst + (i &* 256 &+ 32 &* ib32 &+ 8 &* l))
                        }
                    }
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_iq3_xxs` (`quantize_row_iq3_xxs_impl(256, …)`, row by
    /// row); without importance weights, each element weighs `x²` as there.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int, rowLength: Int,
                                importance: UnsafePointer<Float>?) {
        quantizeRows(src, into: dst, rows: rows, rowLength: rowLength, importance: importance)
    }

    static func quantizeBlock(_ xbl: UnsafePointer<Float>, _ quantWeights: UnsafePointer<Float>?, _ search: LatticeSearch,
                              _ s: IQScratch, into block: UnsafeMutableRawPointer) {
        let weight = s.weight, waux = s.waux, xval = s.xval, L = s.L, Laux = s.Laux, scales = s.scales
        // q3: 64 grid indices, then 8 words of signs and scales.
        var q3 = [UInt8](repeating: 0, count: 64)
        var scalesAndSigns = [UInt32](repeating: 0, count: 8)
        var maxScale: Float = 0
        let sigma2 = 2 * superBlockMeanSquare(xbl)  // 2*sumx2/QK_K: scaling by 2 is exact
        for ib in 0..<8 {
            let xb = xbl + 32 * ib
            if let quantWeights {
                importanceWeights(xb, quantWeights + 32 * ib, sigma2: sigma2, 32, into: weight)
            } else {
                for i in 0..<32 { weight[i] = xb[i] * xb[i] }
            }
            for i in 0..<32 { waux[i] = weight[i].squareRoot() }
            var signs: [UInt8] = (0..<4).map { k in evenSigns(xb + 8 * k, weight + 8 * k, into: xval + 8 * k) }
            var max = xval[0]
            for i in 1..<32 { max = max > xval[i] ? max : xval[i] }
            if max < 1e-8 {
                scales[ib] = 0
                continue
            }
            var scale = gridScaleSearch(32, kMaxQ: 8, trials: -15...15, step: 0.2, max: max, xval, weight, waux,
                                        search, bits: 3, L, Laux)
            if scale < 0 {
                scale = -scale
                signs = signs.map { ~$0 & 127 }
            }
            for k in 0..<8 {
                // On the grid by construction (ggml aborts otherwise).
                q3[8 * ib + k] = UInt8(truncatingIfNeeded: Swift.max(0, search.map[levelKey(L + 4 * k, 4, 3)]))
            }
            scalesAndSigns[ib] = UInt32(signs[0]) | UInt32(signs[1]) << 7 | UInt32(signs[2]) << 14 | UInt32(signs[3]) << 21
            scales[ib] = scale
            maxScale = maxScale > scale ? maxScale : scale
        }
        if maxScale == 0 {
            block.storeHalf(floatToHalf(0), at: 0)
            for j in 0..<96 { block.storeBytes(of: 0, toByteOffset: 2 + j, as: UInt8.self) }
            return
        }
        let d = maxScale / 31
        block.storeHalf(floatToHalf(d * 1.0125), at: 0)
        let id = 1 / d
        for ib in 0..<8 {
            let l = Swift.max(0, Swift.min(15, nearestInt(0.5 * (id * scales[ib] - 1))))
            scalesAndSigns[ib] |= UInt32(l) << 28
        }
        for j in 0..<64 { block.storeBytes(of: q3[j], toByteOffset: 2 + j, as: UInt8.self) }
        for j in 0..<8 { block.storeBytes(of: scalesAndSigns[j].littleEndian, toByteOffset: 66 + 4 * j, as: UInt32.self) }
    }
}
