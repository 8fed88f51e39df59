import GGUF

/// `IQ1_S`: super-blocks of 256 weights in 8 groups of 32, each group 4 points of the 2048-point
/// ternary grid `iq1s_grid`, shifted by `±IQ1S_DELTA`, with a 3-bit scale; 50 bytes (1.5625 bpw).
///
/// Layout (`block_iq1_s`): `d` (F16), `qs[32]` (the low 8 bits of the grid indices), `qh[8]` (u16 a
/// group: the 3 high index bits of point `l` in bits `3l…3l+2`, the scale `s` in bits 12–14, the
/// shift's sign in bit 15); `x = d·(2s + 1)·(grid + delta)`.
public enum IQ1_S: WeightedBlockQuantizer, LatticeQuantizer {
    public static var requiresImportance: Bool { true }

    public static var type: GGMLType { .iq1_S }

    @inlinable static var blockBytes: Int { 50 }
    static var search: LatticeSearch { iq1sSearch }

    /// ggml's `IQ1S_DELTA` (and `IQ1M_DELTA`).
    @inlinable static var delta: Float { 0.125 }

    /// Bit-exact with llama.cpp's `dequantize_row_iq1_s`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        iq1sGrid.withUnsafeBufferPointer { grid in
            for i in 0..<blocks {
                let block = src + i &* blockBytes
                let d = block.loadHalf(at: 0)
                for ib in 0..<8 {
                    let qh = Int(UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 34 &+ 2 &* ib, as: UInt16.self)))
                    let dl = d * Float(2 &* ((qh &>> 12) & 7) &+ 1)
                    let shift: Float = qh & 0x8000 != 0 ? -delta : delta
                    for pair in 0..<2 {  // grid points 2·pair and 2·pair + 1, as IQ1_M decodes them
                        let l = 2 &* pair
                        let low = Int(block.load(fromByteOffset: 2 &+ 4 &* ib &+ l, as: UInt8.self)) | ((qh &>> (3 &* l)) & 7) &<< 8
                        let high = Int(block.load(fromByteOffset: 3 &+ 4 &* ib &+ l, as: UInt8.self)) | ((qh &>> (3 &* l &+ 3)) & 7) &<< 8
                        ByteLanes(signed: unsafeBitCast(SIMD2(grid[low], grid[high]), to: SIMD16<UInt8>.self))
                            .store(adding: shift, shift, times: dl, to: dst + (i &* 256 &+ 32 &* ib &+ 16 &* pair))
                    }
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_iq1_s` (`quantize_row_iq1_s_impl`, row by row).
    /// llama.cpp requires the importance weights; without them each column weighs 1.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int, rowLength: Int,
                                importance: UnsafePointer<Float>?) {
        quantizeRows(src, into: dst, rows: rows, rowLength: rowLength, importance: importance)
    }

    static func quantizeBlock(_ xbl: UnsafePointer<Float>, _ quantWeights: UnsafePointer<Float>?, _ search: LatticeSearch,
                              _ s: IQScratch, into block: UnsafeMutableRawPointer) {
        // `quantizeRows` gives the types that require weights ones when there is no matrix.
        guard let quantWeights else { preconditionFailure("IQ1_S is quantized with importance weights") }
        let weight = s.weight, L = s.L, scales = s.scales, order = s.order, sumx = s.xval, sumw = s.waux
        var shifts = [Int8](repeating: 0, count: 8)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
        var maxScale: Float = 0
        let sigma2 = 2 * superBlockMeanSquare(xbl)  // 2*sumx2/QK_K: scaling by 2 is exact
        let xp = shiftedLevels(true), xm = shiftedLevels(false)
        for ib in 0..<8 {
            let xb = xbl + 32 * ib
            importanceWeights(xb, quantWeights + 32 * ib, sigma2: sigma2, 32, into: weight)
            var max = xb[0].magnitude
            for i in 1..<32 { max = max > xb[i].magnitude ? max : xb[i].magnitude }
            if max < 1e-12 {
                scales[ib] = 0
                shifts[ib] = 1
                continue
            }
            sortedPositions(xb, 32, into: order)
            sumx[0] = 0
            sumw[0] = 0
            for j in 0..<32 {
                let i = order[j]
                sumx[j + 1] = sumx[j] + weight[i] * xb[i]
                sumw[j + 1] = sumw[j] + weight[i]
            }
            var bestScore = -Float.greatestFiniteMagnitude, scale = max
            var besti1 = -1, besti2 = -1, bestShift = 0
            for i1 in 0...32 {
                for i2 in i1...32 {
                    let x0: Float = sumx[i1] - sumx[0], x1: Float = sumx[i2] - sumx[i1], x2: Float = sumx[32] - sumx[i2]
                    let w0: Float = sumw[i1] - sumw[0], w1: Float = sumw[i2] - sumw[i1], w2: Float = sumw[32] - sumw[i2]
                    for shift in [1, -1] {
                        let v = shift == 1 ? xp : xm
                        let sumqx: Float = x0 * v.0 + x1 * v.1 + x2 * v.2
                        let q0: Float = w0 * v.0 * v.0, q1: Float = w1 * v.1 * v.1, q2: Float = w2 * v.2 * v.2
                        let sumq2: Float = q0 + q1 + q2
                        if sumq2 > 0 && sumqx * sumqx > bestScore * sumq2 {
                            scale = sumqx / sumq2
                            bestScore = scale * sumqx
                            besti1 = i1
                            besti2 = i2
                            bestShift = shift
                        }
                    }
                }
            }
            if besti1 < 0 || besti2 < 0 || bestShift == 0 {
                scales[ib] = 0
                shifts[ib] = 1
                continue
            }
            for j in 0..<32 { L[order[j]] = j < besti1 ? 0 : j < besti2 ? 1 : 2 }
            if scale < 0 {
                for j in 0..<32 { L[j] = 2 - L[j] }
                scale = -scale
                bestShift = -bestShift
            }
            var allOnGrid = true
            let xx = bestShift == 1 ? xp : xm
            var index = (0, 0, 0, 0)
            withUnsafeMutableBytes(of: &index) { raw in
                let index = raw.bindMemory(to: Int.self)
                for k in 0..<4 {
                    var entry = search.map[levelKey(L + 8 * k, 8, 2)]
                    if entry < 0 {
                        allOnGrid = false
                        entry = Int32(search.bestTernaryNeighbour(entry, xb + 8 * k, weight + 8 * k, scale: scale, xx, L + 8 * k))
                    }
                    index[k] = Int(entry)
                }
                if !allOnGrid {
                    var sumqx: Float = 0, sumq2: Float = 0
                    for k in 0..<4 {
                        for j in 0..<8 {
                            let w = weight[8 * k + j]
                            let q = level(xx, search.levels[index[k] * 8 + j])
                            sumqx += w * q * xb[8 * k + j]
                            sumq2 += w * q * q
                        }
                    }
                    if sumqx > 0 && sumq2 > 0 { scale = sumqx / sumq2 }
                }
                var h: UInt16 = 0
                for k in 0..<4 {
                    block.storeBytes(of: UInt8(index[k] & 255), toByteOffset: 2 + 4 * ib + k, as: UInt8.self)
                    h |= UInt16(index[k] >> 8) << UInt16(3 * k)
                }
                block.storeBytes(of: h.littleEndian, toByteOffset: 34 + 2 * ib, as: UInt16.self)
            }
            scales[ib] = scale
            shifts[ib] = Int8(bestShift)
            maxScale = maxScale > scale ? maxScale : scale
        }
        if maxScale == 0 { return }
        let d = maxScale / 15
        block.storeHalf(floatToHalf(d * 1.125), at: 0)
        let id = 1 / d
        for ib in 0..<8 {
            var l = UInt16(Swift.max(0, Swift.min(7, nearestInt(0.5 * (id * scales[ib] - 1)))))
            if shifts[ib] == -1 { l |= 8 }
            let qh = UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 34 + 2 * ib, as: UInt16.self))
            block.storeBytes(of: (qh | l << 12).littleEndian, toByteOffset: 34 + 2 * ib, as: UInt16.self)
        }
    }
}
