import GGUF

/// `IQ2_XS`: super-blocks of 256 weights in 8 groups of 32, each group 4 points of the 512-point grid
/// `iq2xs_grid` with 7-bit sign indices, and two 4-bit scales a group; 74 bytes (2.3125 bpw).
///
/// Layout (`block_iq2_xs`): `d` (F16), `qs[32]` (u16: grid index in bits 0–8, sign index in bits 9–15),
/// `scales[8]` (the first half-group's scale in the low nibble, the second's in the high nibble);
/// `x = d·(0.5 + s)·0.25·grid·sign`.
public enum IQ2_XS: WeightedBlockQuantizer, LatticeQuantizer {
    public static var requiresImportance: Bool { true }

    public static var type: GGMLType { .iq2_XS }

    @inlinable static var blockBytes: Int { 74 }
    static var search: LatticeSearch { iq2xsSearch }

    /// Bit-exact with llama.cpp's `dequantize_row_iq2_xs`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        iq2xsGrid.withUnsafeBufferPointer { grid in
            iqSigns.withUnsafeBufferPointer { ksigns in
                for i in 0..<blocks {
                    let block = src + i &* blockBytes
                    let d = block.loadHalf(at: 0)
                    for ib32 in 0..<8 {
                        let scales = block.load(fromByteOffset: 66 &+ ib32, as: UInt8.self)
                        let db0 = d * (0.5 + Float(scales & 0xF)) * 0.25
                        let db1 = d * (0.5 + Float(scales &>> 4)) * 0.25
                        for l in 0..<4 {
                            let q = UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 2 &+ 2 &* (4 &* ib32 &+ l), as: UInt16.self))
                            writeSignedGroup(grid[Int(q & 511)], signs: ksigns[Int(q &>> 9)], scale: l < 2 ? db0 : db1,
                                             into: dst + (i &* 256 &+ 32 &* ib32 &+ 8 &* l))
                        }
                    }
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_iq2_xs` (`quantize_row_iq2_xs_impl`, row by row).
    /// llama.cpp requires the importance weights; without them each column weighs 1.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int, rowLength: Int,
                                importance: UnsafePointer<Float>?) {
        quantizeRows(src, into: dst, rows: rows, rowLength: rowLength, importance: importance)
    }

    static func quantizeBlock(_ xbl: UnsafePointer<Float>, _ quantWeights: UnsafePointer<Float>?, _ search: LatticeSearch,
                              _ s: IQScratch, into block: UnsafeMutableRawPointer) {
        // `quantizeRows` gives the types that require weights ones when there is no matrix.
        guard let quantWeights else { preconditionFailure("IQ2_XS is quantized with importance weights") }
        let weight = s.weight, waux = s.waux, xval = s.xval, L = s.L, Laux = s.Laux, scales = s.scales
        var q2 = [UInt16](repeating: 0, count: 32)
        var maxScale: Float = 0
        let sigma2 = superBlockMeanSquare(xbl)
        for ib in 0..<16 {
            let xb = xbl + 16 * ib
            importanceWeights(xb, quantWeights + 16 * ib, sigma2: sigma2, 16, into: weight, roots: waux)
            var signs0 = evenSigns(xb, weight, into: xval)
            var signs1 = evenSigns(xb + 8, weight + 8, into: xval + 8)
            var max = xval[0]
            for i in 1..<16 { max = max > xval[i] ? max : xval[i] }
            if max < 1e-15 {
                scales[ib] = 0
                continue
            }
            var scale = gridScaleSearch(16, kMaxQ: 3, trials: -9...9, step: 0.1, max: max, xval, weight, waux,
                                        search, bits: 2, L, Laux)
            if scale < 0 {
                scale = -scale
                signs0 = ~signs0 & 127
                signs1 = ~signs1 & 127
            }
            for (k, signs) in [signs0, signs1].enumerated() {
                // On the grid by construction (ggml aborts otherwise).
                let index = UInt16(Swift.max(0, search.map[levelKey(L + 8 * k, 8, 2)]))
                q2[2 * ib + k] = index | UInt16(signs) << 9
            }
            scales[ib] = scale
            maxScale = maxScale > scale ? maxScale : scale
        }
        for j in 0..<8 { block.storeBytes(of: 0, toByteOffset: 66 + j, as: UInt8.self) }
        block.storeHalf(floatToHalf(0), at: 0)
        if maxScale == 0 {
            for j in 0..<64 { block.storeBytes(of: 0, toByteOffset: 2 + j, as: UInt8.self) }
            return
        }
        let d = maxScale / 31
        block.storeHalf(floatToHalf(d), at: 0)
        let id = 1 / d
        for ib in 0..<16 {
            let l = UInt8(Swift.max(0, Swift.min(15, nearestInt(0.5 * (id * scales[ib] - 1)))))
            let old = block.load(fromByteOffset: 66 + ib / 2, as: UInt8.self)
            block.storeBytes(of: ib % 2 == 0 ? l : old | l << 4, toByteOffset: 66 + ib / 2, as: UInt8.self)
        }
        for j in 0..<32 {
            block.storeBytes(of: q2[j].littleEndian, toByteOffset: 2 + 2 * j, as: UInt16.self)
        }
    }
}
