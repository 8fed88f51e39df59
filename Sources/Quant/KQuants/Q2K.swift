import GGUF

/// Q2_K: super-blocks of 256 weights in 16 groups of 16, `x ≈ d·sc·q − dmin·m` with 2-bit `q`,
/// 4-bit group scale `sc` and min `m`, and F16 super-block scales `d`, `dmin` (84 bytes, 2.625 bpw).
///
/// Layout (`block_q2_K`): `scales[16]` (low nibble `sc`, high nibble `m`), `qs[64]`, `d`, `dmin`.
public enum Q2_K: BlockQuantizer {
    public static var type: GGMLType { .q2_K }

    @usableFromInline static let blockBytes = 84

    /// Bit-exact with llama.cpp's `dequantize_row_q2_K`.
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let scales = block.assumingMemoryBound(to: UInt8.self)
            let d = block.loadHalf(at: 80)
            let dmin = block.loadHalf(at: 82)
            let y = dst + i &* kQK
            for half in 0..<2 {
                let q = scales + (16 &+ 32 &* half)
                for s in 0..<4 {
                    let shift = UInt8(truncatingIfNeeded: 2 &* s)
                    for g in 0..<2 {
                        let sc = scales[8 &* half &+ 2 &* s &+ g]
                        let dl = d * Float(sc & 0xF)
                        let ml = dmin * Float(sc &>> 4)
                        let out = y + (128 &* half &+ 32 &* s &+ 16 &* g)
                        let qg = q + 16 &* g
                        for l in 0..<16 {
                            out[l] = dl * Float((qg[l] &>> shift) & 3) - ml
                        }
                    }
                }
            }
        }
    }

    /// Bit-exact with llama.cpp's `quantize_row_q2_K_ref` (what `llama-quantize` writes for Q2_K
    /// without an importance matrix).
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 4 * 32) { lanes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: kQK) { bytes in
                let scratch = lanes.baseAddress!
                for i in 0..<blocks {
                    quantizeBlock(src + i &* kQK, into: dst + i &* blockBytes, x: scratch, weights: scratch + 32,
                                  levelLanes: scratch + 64, laux: scratch + 96, levels: bytes.baseAddress!)
                }
            }
        }
    }

    /// One super-block; the sixteen groups of 16 run as two sets of eight lanes (`x[16·h + i]` lane
    /// `j` is element `i` of group `8·h + j`, likewise `weights` and `levelLanes`).
    @inline(__always)
    static func quantizeBlock(
        _ source: UnsafePointer<Float>, into block: UnsafeMutableRawPointer,
        x: UnsafeMutablePointer<SIMD8<Float>>, weights: UnsafeMutablePointer<SIMD8<Float>>,
        levelLanes: UnsafeMutablePointer<SIMD8<Float>>, laux: UnsafeMutablePointer<SIMD8<Float>>,
        levels: UnsafeMutablePointer<UInt8>
    ) {
        let q4scale: Float = 15
        loadGroupLanes(16, source, into: x)
        loadGroupLanes(16, source + 128, into: x + 16)
        for i in 0..<32 { weights[i] = magnitude(x[i]) }
        let (scalesLow, minsLow) = makeQKX2Quants(16, 3, x, weights: weights, levelLanes, scratch: laux,
                                                  rmin: -0.5, rdelta: 0.1, nstep: 15, useMad: true)
        let (scalesHigh, minsHigh) = makeQKX2Quants(16, 3, x + 16, weights: weights + 16, levelLanes + 16,
                                                    scratch: laux, rmin: -0.5, rdelta: 0.1, nstep: 15,
                                                    useMad: true)
        let groupScales = SIMD16(lowHalf: scalesLow, highHalf: scalesHigh)
        let groupMins = SIMD16(lowHalf: minsLow, highHalf: minsHigh)
        var maxScale: Float = 0
        var maxMin: Float = 0
        for j in 0..<16 {
            if groupScales[j] > maxScale { maxScale = groupScales[j] }
            if groupMins[j] > maxMin { maxMin = groupMins[j] }
        }

        let scales = block.assumingMemoryBound(to: UInt8.self)
        if maxScale > 0 {
            let iscale = q4scale / maxScale
            for j in 0..<16 { scales[j] = UInt8(truncatingIfNeeded: Int(nearestInt(iscale * groupScales[j]))) }
            block.storeHalf(floatToHalf(maxScale / q4scale), at: 80)
        } else {
            for j in 0..<16 { scales[j] = 0 }
            block.storeHalf(floatToHalf(0), at: 80)
        }
        if maxMin > 0 {
            let iscale = q4scale / maxMin
            for j in 0..<16 {
                scales[j] |= UInt8(truncatingIfNeeded: Int(nearestInt(iscale * groupMins[j])) &<< 4)
            }
            block.storeHalf(floatToHalf(maxMin / q4scale), at: 82)
        } else {
            block.storeHalf(floatToHalf(0), at: 82)
        }

        // Requantize against the rounded scales, as the C code does (groups with d == 0 keep theirs).
        let dAll = UnsafeRawPointer(block).loadHalf(at: 80)
        let dminAll = UnsafeRawPointer(block).loadHalf(at: 82)
        for h in 0..<2 {
            var d = SIMD8<Float>()
            var dm = SIMD8<Float>()
            for j in 0..<8 {
                d[j] = dAll * Float(scales[8 &* h &+ j] & 0xF)
                dm[j] = dminAll * Float(scales[8 &* h &+ j] &>> 4)
            }
            let requantized = d .!= 0
            for i in 16 &* h ..< 16 &* h &+ 16 {
                levelLanes[i].replace(with: nearestLevel((x[i] + dm) / d, 0, 3), where: requantized)
            }
            storeGroupLevels(16, levelLanes + 16 &* h, into: levels + 128 &* h)
        }
        packTwoBitLevels(levels, into: scales + 16)
    }
}
