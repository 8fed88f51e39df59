import GGUF

/// Q3_K: super-blocks of 256 weights in 16 groups of 16, `x ≈ d·(sc − 32)·(q − 4)` with 3-bit `q`
/// (2 low bits in `qs`, the high bit in `hmask`), 6-bit group scales and an F16 super-block scale
/// (110 bytes, 3.4375 bpw).
///
/// Layout (`block_q3_K`): `hmask[32]`, `qs[64]`, `scales[12]` (16 × 6 bits), `d`.
public enum Q3_K: BlockQuantizer {
    public static var type: GGMLType { .q3_K }

    @usableFromInline static let blockBytes = 110

    /// The signed scale (`sc − 32`) of group `j` from the 12 packed scale bytes.
    @inline(__always)
    static func groupScale(_ j: Int, _ sc: UnsafePointer<UInt8>) -> Int {
        let low = j < 8 ? Int(sc[j] & 0xF) : Int(sc[j &- 8] &>> 4)
        let high = (Int(sc[8 &+ j & 3]) &>> (2 &* (j &>> 2))) & 3
        return (low | (high &<< 4)) &- 32
    }

    /// Bit-exact with llama.cpp's `dequantize_row_q3_K`.
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let hmask = block.assumingMemoryBound(to: UInt8.self)
            let qs = hmask + 32
            let sc = hmask + 96
            let dAll = block.loadHalf(at: 108)
            let y = dst + i &* kQK
            for half in 0..<2 {
                let q = qs + 32 &* half
                for s in 0..<4 {
                    let shift = UInt8(truncatingIfNeeded: 2 &* s)
                    let m = UInt8(1) &<< UInt8(truncatingIfNeeded: 4 &* half &+ s)
                    for g in 0..<2 {
                        let dl = dAll * Float(groupScale(8 &* half &+ 2 &* s &+ g, sc))
                        let out = y + (128 &* half &+ 32 &* s &+ 16 &* g)
                        let qg = q + 16 &* g
                        let hg = hmask + 16 &* g
                        for l in 0..<16 {
                            let low = Int32((qg[l] &>> shift) & 3)
                            let offset: Int32 = hg[l] & m != 0 ? 0 : 4
                            out[l] = dl * Float(low &- offset)
                        }
                    }
                }
            }
        }
    }

    /// Bit-exact with llama.cpp's `quantize_row_q3_K_ref` (what `llama-quantize` writes for Q3_K
    /// without an importance matrix).
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 2 * 32 + 32) { lanes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: kQK) { bytes in
                let scratch = lanes.baseAddress!
                for i in 0..<blocks {
                    quantizeBlock(src + i &* kQK, into: dst + i &* blockBytes, x: scratch,
                                  levelLanes: scratch + 32, weights: scratch + 64, levels: bytes.baseAddress!)
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
        weights: UnsafeMutablePointer<SIMD8<Float>>, levels: UnsafeMutablePointer<UInt8>
    ) {
        loadGroupLanes(16, source, into: x)
        loadGroupLanes(16, source + 128, into: x + 16)
        let groupScales = SIMD16(lowHalf: makeQ3Quants(16, 4, x, levelLanes, scratch: weights),
                                 highHalf: makeQ3Quants(16, 4, x + 16, levelLanes + 16, scratch: weights))
        var maxScale: Float = 0
        var amax: Float = 0
        for j in 0..<16 {
            let scale = groupScales[j]
            if scale.magnitude > amax {
                amax = scale.magnitude
                maxScale = scale
            }
        }

        let hmask = block.assumingMemoryBound(to: UInt8.self)
        let qs = hmask + 32
        let sc = hmask + 96
        for j in 0..<12 { sc[j] = 0 }
        if maxScale != 0 {
            let iscale = -32 / maxScale
            for j in 0..<16 {
                // C stores nearest_int's result in an int8_t before clamping.
                let l8 = Int(Int8(truncatingIfNeeded: Int(nearestInt(iscale * groupScales[j]))))
                let l = Swift.max(-32, Swift.min(31, l8)) &+ 32
                if j < 8 {
                    sc[j] = UInt8(truncatingIfNeeded: l & 0xF)
                } else {
                    sc[j &- 8] |= UInt8(truncatingIfNeeded: (l & 0xF) &<< 4)
                }
                sc[8 &+ j & 3] |= UInt8(truncatingIfNeeded: (l &>> 4) &<< (2 &* (j &>> 2)))
            }
            block.storeHalf(floatToHalf(1 / iscale), at: 108)
        } else {
            block.storeHalf(floatToHalf(0), at: 108)
        }

        // Requantize against the rounded scales, as the C code does (groups with d == 0 keep theirs).
        let dAll = UnsafeRawPointer(block).loadHalf(at: 108)
        for h in 0..<2 {
            var d = SIMD8<Float>()
            for j in 0..<8 { d[j] = dAll * Float(groupScale(8 &* h &+ j, sc)) }
            let requantized = d .!= 0
            for i in 16 &* h ..< 16 &* h &+ 16 {
                levelLanes[i].replace(with: nearestLevel(x[i] / d, -4, 3) + 4, where: requantized)
            }
            storeGroupLevels(16, levelLanes + 16 &* h, into: levels + 128 &* h)
        }

        // The high bit of level j (0...7) goes to bit j / 32 of hmask[j % 32]; qs gets the low two bits.
        for j in 0..<32 { hmask[j] = 0 }
        for s in 0..<8 {
            let ls = levels + 32 &* s
            for l in 0..<32 {
                hmask[l] |= (ls[l] &>> 2) &<< UInt8(truncatingIfNeeded: s)
                ls[l] &= 3
            }
        }
        packTwoBitLevels(levels, into: qs)
    }
}
