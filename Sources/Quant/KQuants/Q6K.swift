import GGUF

/// Q6_K: super-blocks of 256 weights in 16 groups of 16, `x ≈ d·sc·(q − 32)` with 6-bit `q`
/// (low 4 bits in `ql`, high 2 bits in `qh`), signed 8-bit group scales and an F16 super-block
/// scale (210 bytes, 6.5625 bpw).
///
/// Layout (`block_q6_K`): `ql[128]`, `qh[64]`, `scales[16]` (`int8`), `d`. In each half `h` of 128
/// levels, level `128·h + 32·s + l` keeps its low nibble in `ql[64·h + 32·(s & 1) + l]` (low nibble
/// for `s < 2`, high for `s ≥ 2`) and its high bits in bits `2s ..< 2s+2` of `qh[32·h + l]`.
public enum Q6_K: BlockQuantizer {
    public static var type: GGMLType { .q6_K }

    @usableFromInline static let blockBytes = 210

    /// Bit-exact with llama.cpp's `dequantize_row_q6_K`.
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let bytes = block.assumingMemoryBound(to: UInt8.self)
            let d = block.loadHalf(at: 208)
            for half in 0..<2 {
                let ql = bytes + 64 &* half
                let qh = bytes + (128 &+ 32 &* half)
                let sc = bytes + (192 &+ 8 &* half)
                let y = dst + (i &* kQK &+ 128 &* half)
                for g in 0..<2 {
                    // d·sc is rounded first, as in C's left-to-right `d * sc[is] * q`.
                    let ds0 = d * Float(Int8(bitPattern: sc[g]))
                    let ds1 = d * Float(Int8(bitPattern: sc[g &+ 2]))
                    let ds2 = d * Float(Int8(bitPattern: sc[g &+ 4]))
                    let ds3 = d * Float(Int8(bitPattern: sc[g &+ 6]))
                    for k in 0..<16 {
                        let l = 16 &* g &+ k
                        let h = qh[l]
                        let q1 = Int32((ql[l] & 0xF) | ((h & 3) &<< 4)) &- 32
                        let q2 = Int32((ql[l &+ 32] & 0xF) | (((h &>> 2) & 3) &<< 4)) &- 32
                        let q3 = Int32((ql[l] &>> 4) | (((h &>> 4) & 3) &<< 4)) &- 32
                        let q4 = Int32((ql[l &+ 32] &>> 4) | (((h &>> 6) & 3) &<< 4)) &- 32
                        y[l] = ds0 * Float(q1)
                        y[l &+ 32] = ds1 * Float(q2)
                        y[l &+ 64] = ds2 * Float(q3)
                        y[l &+ 96] = ds3 * Float(q4)
                    }
                }
            }
        }
    }

    /// Bit-exact with llama.cpp's `quantize_row_q6_K_ref` (what `llama-quantize` writes for Q6_K
    /// without an importance matrix).
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 2 * 32 + 3 * 16) { lanes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: kQK) { bytes in
                let scratch = lanes.baseAddress!
                for i in 0..<blocks {
                    quantizeBlock(src + i &* kQK, into: dst + i &* blockBytes, x: scratch,
                                  levelLanes: scratch + 32, laux: scratch + 64, levels: bytes.baseAddress!)
                }
            }
        }
    }

    /// One super-block; the sixteen groups of 16 run as two sets of eight lanes (`x[16·h + i]` lane
    /// `j` is element `i` of group `8·h + j`, likewise `levelLanes`).
    @inline(__always)
    static func quantizeBlock(
        _ source: UnsafePointer<Float>, into block: UnsafeMutableRawPointer,
        x: UnsafeMutablePointer<SIMD8<Float>>, levelLanes: UnsafeMutablePointer<SIMD8<Float>>,
        laux: UnsafeMutablePointer<SIMD8<Float>>, levels: UnsafeMutablePointer<UInt8>
    ) {
        loadGroupLanes(16, source, into: x)
        loadGroupLanes(16, source + 128, into: x + 16)
        let groupScales = SIMD16(lowHalf: makeQXQuants(16, 32, x, levelLanes, scratch: laux),
                                 highHalf: makeQXQuants(16, 32, x + 16, levelLanes + 16, scratch: laux))
        var maxScale: Float = 0
        var maxAbsScale: Float = 0
        for j in 0..<16 {
            let scale = groupScales[j]
            if scale.magnitude > maxAbsScale {
                maxAbsScale = scale.magnitude
                maxScale = scale
            }
        }

        let bytes = block.assumingMemoryBound(to: UInt8.self)
        if maxAbsScale < kGroupMaxEps {
            for b in 0..<blockBytes { bytes[b] = 0 }
            block.storeHalf(floatToHalf(0), at: 208)
            return
        }

        let sc = bytes + 192
        let iscale = -128 / maxScale
        block.storeHalf(floatToHalf(1 / iscale), at: 208)
        for j in 0..<16 {
            sc[j] = UInt8(truncatingIfNeeded: Swift.min(127, Int(nearestInt(iscale * groupScales[j]))))
        }

        // Requantize against the rounded scales, as the C code does (groups with d == 0 keep theirs).
        let dAll = UnsafeRawPointer(block).loadHalf(at: 208)
        for h in 0..<2 {
            var d = SIMD8<Float>()
            for j in 0..<8 { d[j] = dAll * Float(Int8(bitPattern: sc[8 &* h &+ j])) }
            let requantized = d .!= 0
            for i in 16 &* h ..< 16 &* h &+ 16 {
                levelLanes[i].replace(with: nearestLevel(x[i] / d, -32, 31) + 32, where: requantized)
            }
            storeGroupLevels(16, levelLanes + 16 &* h, into: levels + 128 &* h)
        }

        for half in 0..<2 {
            let lh = levels + 128 &* half
            let ql = bytes + 64 &* half
            let qh = bytes + (128 &+ 32 &* half)
            for l in 0..<32 {
                let l1 = lh[l], l2 = lh[l &+ 32], l3 = lh[l &+ 64], l4 = lh[l &+ 96]
                ql[l] = (l1 & 0xF) | ((l3 & 0xF) &<< 4)
                ql[l &+ 32] = (l2 & 0xF) | ((l4 & 0xF) &<< 4)
                qh[l] = (l1 &>> 4) | ((l2 &>> 4) &<< 2) | ((l3 &>> 4) &<< 4) | ((l4 &>> 4) &<< 6)
            }
        }
    }
}
