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
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 48) { floats in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: kQK + 16) { bytes in
                let weights = floats.baseAddress!
                let groupScales = weights + 16
                let groupMins = weights + 32
                let levels = bytes.baseAddress!
                let laux = levels + kQK
                for i in 0..<blocks {
                    quantizeBlock(src + i &* kQK, into: dst + i &* blockBytes, weights: weights,
                                  groupScales: groupScales, groupMins: groupMins, levels: levels, laux: laux)
                }
            }
        }
    }

    @inline(__always)
    static func quantizeBlock(
        _ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer,
        weights: UnsafeMutablePointer<Float>, groupScales: UnsafeMutablePointer<Float>,
        groupMins: UnsafeMutablePointer<Float>, levels: UnsafeMutablePointer<UInt8>,
        laux: UnsafeMutablePointer<UInt8>
    ) {
        let q4scale: Float = 15
        var maxScale: Float = 0
        var maxMin: Float = 0
        for j in 0..<16 {
            let xj = x + 16 &* j
            for l in 0..<16 { weights[l] = xj[l].magnitude }
            let (scale, min) = makeQKX2Quants(16, 3, xj, weights: weights, levels + 16 &* j, scratch: laux,
                                              rmin: -0.5, rdelta: 0.1, nstep: 15, useMad: true)
            groupScales[j] = scale
            groupMins[j] = min
            if scale > maxScale { maxScale = scale }
            if min > maxMin { maxMin = min }
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

        // Requantize against the rounded scales, as the C code does.
        let dAll = UnsafeRawPointer(block).loadHalf(at: 80)
        let dminAll = UnsafeRawPointer(block).loadHalf(at: 82)
        for j in 0..<16 {
            let d = dAll * Float(scales[j] & 0xF)
            if d == 0 { continue }
            let dm = dminAll * Float(scales[j] &>> 4)
            let xj = x + 16 &* j
            let lj = levels + 16 &* j
            for l in 0..<16 {
                let q = Int(nearestInt((xj[l] + dm) / d))
                lj[l] = UInt8(truncatingIfNeeded: Swift.max(0, Swift.min(3, q)))
            }
        }
        packTwoBitLevels(levels, into: scales + 16)
    }
}
