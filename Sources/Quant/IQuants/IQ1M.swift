import GGUF

/// `IQ1_M`: super-blocks of 256 weights in 8 groups of 32, each group 4 points of the ternary grid
/// `iq1s_grid`, each shifted by its own `±IQ1M_DELTA`, two 3-bit scales a group; 56 bytes (1.75 bpw).
///
/// Layout (`block_iq1_m`): `qs[32]` (the low 8 bits of the grid indices), `qh[16]` (a byte per pair of
/// points: the 3 high index bits of the first in bits 0–2 and its shift sign in bit 3, the second's in
/// bits 4–6 and 7), `scales[8]` (4 little-endian u16: 3-bit scales in bits `3k…3k+2` for k < 4, and the
/// F16 super-block scale `d` spread over their top nibbles); `x = d·(2s + 1)·(grid + delta)`.
public enum IQ1_M: WeightedBlockQuantizer, LatticeQuantizer {

    public static var type: GGMLType { .iq1_M }

    @inlinable static var blockBytes: Int { 56 }
    static var search: LatticeSearch { iq1sSearch }

    /// The 4 little-endian u16 of `scales` at `block + 48`.
    @inlinable @inline(__always)
    static func scaleWord(_ block: UnsafeRawPointer, _ k: Int) -> UInt16 {
        UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 48 &+ 2 &* k, as: UInt16.self))
    }

    /// Bit-exact with llama.cpp's `dequantize_row_iq1_m`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        let delta = IQ1_S.delta
        iq1sGrid.withUnsafeBufferPointer { grid in
            for i in 0..<blocks {
                let block = src + i &* blockBytes
                let sc = (scaleWord(block, 0), scaleWord(block, 1), scaleWord(block, 2), scaleWord(block, 3))
                let dBits = (sc.0 &>> 12) | ((sc.1 &>> 8) & 0x00F0) | ((sc.2 &>> 4) & 0x0F00) | (sc.3 & 0xF000)
                let d = halfToFloat(dBits)
                for ib in 0..<8 {
                    let word = Int(scaleWord(block, ib / 2))
                    let dl1 = d * Float(2 &* ((word &>> (6 &* (ib % 2))) & 7) &+ 1)
                    let dl2 = d * Float(2 &* ((word &>> (6 &* (ib % 2) &+ 3)) & 7) &+ 1)
                    for pair in 0..<2 {  // grid points 2·pair and 2·pair + 1, their shifts in one byte
                        let qh = Int(block.load(fromByteOffset: 32 &+ 2 &* ib &+ pair, as: UInt8.self))
                        let low = Int(block.load(fromByteOffset: 4 &* ib &+ 2 &* pair, as: UInt8.self))
                        let high = Int(block.load(fromByteOffset: 4 &* ib &+ 2 &* pair &+ 1, as: UInt8.self))
                        let points = SIMD2(grid[low | (qh &<< 8) & 0x700], grid[high | (qh &<< 4) & 0x700])
                        ByteLanes(signed: unsafeBitCast(points, to: SIMD16<UInt8>.self))
                            .store(adding: qh & 0x08 != 0 ? -delta : delta, qh & 0x80 != 0 ? -delta : delta,
                                   times: pair == 0 ? dl1 : dl2, to: dst + (i &* 256 &+ 32 &* ib &+ 16 &* pair))
                    }
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_iq1_m` (`quantize_row_iq1_m_impl`, row by row); without
    /// importance weights, each element weighs `x²` as there.
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int, rowLength: Int,
                                importance: UnsafePointer<Float>?) {
        quantizeRows(src, into: dst, rows: rows, rowLength: rowLength, importance: importance)
    }

    /// ggml's weights of one group of 16 (`qw·sqrtf(sigma2 + x²)`, or `x²` without an importance matrix).
    @inline(__always)
    static func groupWeights(_ xb: UnsafePointer<Float>, _ qw: UnsafePointer<Float>?, sigma2: Float, into weight: UnsafeMutablePointer<Float>) {
        if let qw {
            importanceWeights(xb, qw, sigma2: sigma2, 16, into: weight)
        } else {
            for i in 0..<16 { weight[i] = xb[i] * xb[i] }
        }
    }

    static func quantizeBlock(_ xbl: UnsafePointer<Float>, _ quantWeights: UnsafePointer<Float>?, _ search: LatticeSearch,
                              _ s: IQScratch, into block: UnsafeMutableRawPointer) {
        let weight = s.weight, L = s.L, scales = s.scales, order = s.order
        var shifts = [Int](repeating: 0, count: 16)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
        var maxScale: Float = 0
        let sigma2 = 2 * superBlockMeanSquare(xbl)  // 2*sumx2/QK_K: scaling by 2 is exact
        let xp = shiftedLevels(true), xm = shiftedLevels(false)
        // best_k: bit 1 set → the first 8 use x_m, bit 0 set → the second 8 use x_m.
        func halfLevels(_ k: Int, half: Int) -> (Float, Float, Float) {
            (half == 0 ? k < 2 : k % 2 == 0) ? xp : xm
        }
        var px = [[Float]](repeating: [Float](repeating: 0, count: 17), count: 2)
        var pw = px
        for ib in 0..<16 {
            let xb = xbl + 16 * ib
            groupWeights(xb, quantWeights.map { $0 + 16 * ib }, sigma2: sigma2, into: weight)
            var max = xb[0].magnitude
            for i in 1..<16 { max = max > xb[i].magnitude ? max : xb[i].magnitude }
            if max < 1e-7 {
                scales[ib] = 0
                shifts[ib] = 0
                continue
            }
            sortedPositions(xb, 16, into: order)
            var bestScore = -Float.greatestFiniteMagnitude, scale = max
            var besti1 = -1, besti2 = -1, bestK = -1
            for h in 0..<2 {
                px[h][0] = 0
                pw[h][0] = 0
            }
            for j in 0..<16 {
                let i = order[j]
                let h = i < 8 ? 0 : 1
                px[h][j + 1] = px[h][j] + weight[i] * xb[i]
                px[1 - h][j + 1] = px[1 - h][j]
                pw[h][j + 1] = pw[h][j] + weight[i]
                pw[1 - h][j + 1] = pw[1 - h][j]
            }
            let txs = (px[0][16], px[1][16]), tws = (pw[0][16], pw[1][16])
            let p2 = xp.2, m2 = xm.2
            let cp1 = xp.0 * xp.0 - xp.1 * xp.1, cp2 = xp.1 * xp.1 - xp.2 * xp.2
            let cm1 = xm.0 * xm.0 - xm.1 * xm.1, cm2 = xm.1 * xm.1 - xm.2 * xm.2
            for i1 in 0...16 {
                for i2 in i1...16 {
                    let sx0 = px[0][i1] + px[0][i2], sx1 = px[1][i1] + px[1][i2]
                    let qxp0 = txs.0 * p2 - sx0, qxp1 = txs.1 * p2 - sx1
                    let qxm0 = txs.0 * m2 - sx0, qxm1 = txs.1 * m2 - sx1
                    let q2p0 = tws.0 * p2 * p2 + pw[0][i1] * cp1 + pw[0][i2] * cp2
                    let q2p1 = tws.1 * p2 * p2 + pw[1][i1] * cp1 + pw[1][i2] * cp2
                    let q2m0 = tws.0 * m2 * m2 + pw[0][i1] * cm1 + pw[0][i2] * cm2
                    let q2m1 = tws.1 * m2 * m2 + pw[1][i1] * cm1 + pw[1][i2] * cm2
                    let sumqx = (qxp0 + qxp1, qxp0 + qxm1, qxm0 + qxp1, qxm0 + qxm1)
                    let sumq2 = (q2p0 + q2p1, q2p0 + q2m1, q2m0 + q2p1, q2m0 + q2m1)
                    for (k, (qx, q2)) in [(sumqx.0, sumq2.0), (sumqx.1, sumq2.1), (sumqx.2, sumq2.2), (sumqx.3, sumq2.3)].enumerated() {
                        if q2 > 0 && qx * qx > bestScore * q2 {
                            scale = qx / q2
                            bestScore = scale * qx
                            besti1 = i1
                            besti2 = i2
                            bestK = k
                        }
                    }
                }
            }
            if besti1 < 0 || besti2 < 0 || bestK < 0 {
                scales[ib] = 0
                shifts[ib] = 0
                continue
            }
            for j in 0..<16 { L[order[j]] = j < besti1 ? 0 : j < besti2 ? 1 : 2 }
            if scale < 0 {
                for j in 0..<16 { L[j] = 2 - L[j] }
                scale = -scale
                bestK = 3 - bestK
            }
            var allOnGrid = true
            var index = (0, 0)
            for k in 0..<2 {
                let xx = halfLevels(bestK, half: k)
                var entry = search.map[levelKey(L + 8 * k, 8, 2)]
                if entry < 0 {
                    allOnGrid = false
                    entry = Int32(search.bestTernaryNeighbour(entry, xb + 8 * k, weight + 8 * k, scale: scale, xx, L + 8 * k))
                }
                if k == 0 { index.0 = Int(entry) } else { index.1 = Int(entry) }
            }
            if !allOnGrid {
                var sumqx: Float = 0, sumq2: Float = 0
                for k in 0..<2 {
                    let xx = halfLevels(bestK, half: k)
                    let point = k == 0 ? index.0 : index.1
                    for j in 0..<8 {
                        let w = weight[8 * k + j]
                        let q = level(xx, search.levels[point * 8 + j])
                        sumqx += w * q * xb[8 * k + j]
                        sumq2 += w * q * q
                    }
                }
                if sumqx > 0 && sumq2 > 0 { scale = sumqx / sumq2 }
            }
            block.storeBytes(of: UInt8(index.0 & 255), toByteOffset: 2 * ib, as: UInt8.self)
            block.storeBytes(of: UInt8(index.1 & 255), toByteOffset: 2 * ib + 1, as: UInt8.self)
            block.storeBytes(of: UInt8((index.0 >> 8) | ((index.1 >> 8) << 4)), toByteOffset: 32 + ib, as: UInt8.self)
            scales[ib] = scale
            shifts[ib] = bestK
            maxScale = maxScale > scale ? maxScale : scale
        }
        if maxScale == 0 { return }
        let masks: [UInt8] = [0x00, 0x80, 0x08, 0x88]
        var sc: [UInt16] = [0, 0, 0, 0]
        var d = maxScale / 15
        let id = 1 / d
        var sumqx: Float = 0, sumq2: Float = 0
        for ib in 0..<16 {
            let l = Swift.max(0, Swift.min(7, nearestInt(0.5 * (id * scales[ib] - 1))))
            sc[ib / 4] |= UInt16(l) << UInt16(3 * (ib % 4))
            let qh = block.load(fromByteOffset: 32 + ib, as: UInt8.self) | masks[shifts[ib]]
            block.storeBytes(of: qh, toByteOffset: 32 + ib, as: UInt8.self)
            let xb = xbl + 16 * ib
            groupWeights(xb, quantWeights.map { $0 + 16 * ib }, sigma2: sigma2, into: weight)
            for k in 0..<2 {
                let xx = halfLevels(shifts[ib], half: k)
                let point = Int(block.load(fromByteOffset: 2 * ib + k, as: UInt8.self)) | ((Int(qh) << (8 - 4 * k)) & 0x700)
                for j in 0..<8 {
                    let w = weight[8 * k + j]
                    let q = level(xx, search.levels[point * 8 + j]) * Float(2 * l + 1)
                    sumqx += w * q * xb[8 * k + j]
                    sumq2 += w * q * q
                }
            }
        }
        if sumq2 > 0 { d = sumqx / sumq2 }
        let bits = floatToHalf(d * 1.1125)
        sc[0] |= (bits & 0x000F) << 12
        sc[1] |= (bits & 0x00F0) << 8
        sc[2] |= (bits & 0x0F00) << 4
        sc[3] |= bits & 0xF000
        for k in 0..<4 { block.storeBytes(of: sc[k].littleEndian, toByteOffset: 48 + 2 * k, as: UInt16.self) }
    }
}
