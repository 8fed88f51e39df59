import GGUF

/// `IQ2_XXS`: super-blocks of 256 weights in 8 groups of 32, each group 4 points of the 256-point
/// grid `iq2xxs_grid` (8 magnitudes each) with 7-bit sign indices and a 4-bit scale; 66 bytes
/// (2.0625 bpw).
///
/// Layout (`block_iq2_xxs`): `d` (F16), then for each group two little-endian u32: the first holds the
/// 4 grid indices (a byte each), the second the 4 sign indices (7 bits each, bits `7l…7l+6`) and the
/// scale `s` in bits 28–31; `x = d·(0.5 + s)·0.25·grid·sign`.
public enum IQ2_XXS: WeightedBlockQuantizer, LatticeQuantizer {
    public static var requiresImportance: Bool { true }

    public static var type: GGMLType { .iq2_XXS }

    @inlinable static var blockBytes: Int { 66 }
    static var search: LatticeSearch { iq2xxsSearch }

    /// Bit-exact with llama.cpp's `dequantize_row_iq2_xxs`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        iq2xxsGrid.withUnsafeBufferPointer { grid in
            iqSigns.withUnsafeBufferPointer { ksigns in
                for i in 0..<blocks {
                    let block = src + i &* blockBytes
                    let d = block.loadHalf(at: 0)
                    for ib32 in 0..<8 {
                        let indices = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2 &+ 8 &* ib32, as: UInt32.self))
                        let aux = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 6 &+ 8 &* ib32, as: UInt32.self))
                        let db = d * (0.5 + Float(aux &>> 28)) * 0.25
                        for l in 0..<4 {
                            let point = grid[Int(indices &>> (8 &* UInt32(l)) & 0xFF)]
                            let signs = ksigns[Int(aux &>> (7 &* UInt32(l)) & 127)]
                            writeSignedGroup(point, signs: signs, scale: db, into: dst + (i &* 256 &+ 32 &* ib32 &+ 8 &* l))
                        }
                    }
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_iq2_xxs` (`quantize_row_iq2_xxs_impl`, row by row).
    /// llama.cpp requires the importance weights; without them each column weighs 1.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int, rowLength: Int,
                                importance: UnsafePointer<Float>?) {
        quantizeRows(src, into: dst, rows: rows, rowLength: rowLength, importance: importance)
    }

    static func quantizeBlock(_ xbl: UnsafePointer<Float>, _ quantWeights: UnsafePointer<Float>?, _ search: LatticeSearch,
                              _ s: IQScratch, into block: UnsafeMutableRawPointer) {
        // `quantizeRows` gives the types that require weights ones when there is no matrix.
        guard let quantWeights else { preconditionFailure("IQ2_XXS is quantized with importance weights") }
        let kMaxQ: Int32 = 3
        let weight = s.weight, waux = s.waux, xval = s.xval, L = s.L, Laux = s.Laux, scales = s.scales
        let q2 = s.words
        q2.update(repeating: 0, count: 16)
        var blockSigns: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        var maxScale: Float = 0
        let sigma2 = superBlockMeanSquare(xbl)
        for ib in 0..<8 {
            let xb = xbl + 32 * ib
            importanceWeights(xb, quantWeights + 32 * ib, sigma2: sigma2, 32, into: weight, roots: waux)
            withUnsafeMutableBytes(of: &blockSigns) { signs in
                for k in 0..<4 {
                    signs[k] = evenSigns(xb + 8 * k, weight + 8 * k, into: xval + 8 * k)
                }
            }
            var max = xval[0]
            for i in 1..<32 { max = max > xval[i] ? max : xval[i] }
            if max < 1e-15 {
                scales[ib] = 0
                for i in 0..<32 { L[i] = 0 }
                continue
            }
            var scale = L.withMemoryRebound(to: UInt8.self, capacity: 32) { makeQPQuants(32, Int(kMaxQ) + 1, xval, $0, weights: weight) }
            let effMax = scale * Float(kMaxQ)
            if effMax <= 0 {
                scales[ib] = 0
                for i in 0..<32 { L[i] = 0 }
                continue
            }
            var best: Float = 0
            for trial in -6...6 {
                let id = (Float(2 * kMaxQ - 1) + Float(trial) * 0.1) / effMax
                let thisScale = 1 / id
                for k in 0..<4 {
                    for i in 0..<8 { Laux[8 * k + i] = oddLevel(id, xval[8 * k + i], maxLevel: kMaxQ - 1) }
                    let entry = search.map[levelKey(Laux + 8 * k, 8, 2)]
                    if entry < 0 {
                        _ = search.bestNeighbour(entry, xval + 8 * k, waux + 8 * k, scale: thisScale, Laux + 8 * k)
                    }
                }
                var sumqx: Float = 0, sumq2: Float = 0
                for i in 0..<32 {
                    let w = weight[i]
                    let q = Float(2 * Int32(Laux[i]) + 1)
                    sumqx += w * xval[i] * q
                    sumq2 += w * q * q
                }
                if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
                    scale = sumqx / sumq2
                    best = scale * sumqx
                    L.update(from: Laux, count: 32)
                }
            }
            if scale > 0 {
                let id = 1 / scale
                for k in 0..<4 {
                    for i in 0..<8 { L[8 * k + i] = oddLevel(id, xval[8 * k + i], maxLevel: kMaxQ - 1) }
                    let entry = search.map[levelKey(L + 8 * k, 8, 2)]
                    if entry < 0 {
                        _ = search.bestNeighbour(entry, xval + 8 * k, waux + 8 * k, scale: scale, L + 8 * k)
                    }
                }
                var sumqx: Float = 0, sumq2: Float = 0
                for i in 0..<32 {
                    let w = weight[i]
                    let q = Float(2 * Int32(L[i]) + 1)
                    sumqx += w * xval[i] * q
                    sumq2 += w * q * q
                }
                if sumq2 > 0 { scale = sumqx / sumq2 }
            }
            if scale < 0 {
                scale = -scale
                blockSigns = (~blockSigns.0 & 127, ~blockSigns.1 & 127, ~blockSigns.2 & 127, ~blockSigns.3 & 127)
            }
            withUnsafeBytes(of: blockSigns) { signs in
                for k in 0..<4 {
                    // On the grid by construction (ggml aborts otherwise).
                    let index = UInt32(Swift.max(0, search.map[levelKey(L + 8 * k, 8, 2)]))
                    q2[2 * ib] |= index << (8 * UInt32(k))
                    q2[2 * ib + 1] |= UInt32(signs[k]) << (7 * UInt32(k))
                }
            }
            scales[ib] = scale
            maxScale = maxScale > scale ? maxScale : scale
        }
        block.storeHalf(floatToHalf(0), at: 0)
        if maxScale == 0 {
            for j in 0..<64 { block.storeBytes(of: 0, toByteOffset: 2 + j, as: UInt8.self) }
            return
        }
        let d = maxScale / 31
        block.storeHalf(floatToHalf(d), at: 0)
        let id = 1 / d
        for ib in 0..<8 {
            let l = max(0, min(15, nearestInt(0.5 * (id * scales[ib] - 1))))
            q2[2 * ib + 1] |= UInt32(l) << 28
        }
        for j in 0..<16 {
            block.storeBytes(of: q2[j].littleEndian, toByteOffset: 2 + 4 * j, as: UInt32.self)
        }
    }
}
