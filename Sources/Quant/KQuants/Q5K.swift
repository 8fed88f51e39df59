import GGUF

/// Q5_K: super-blocks of 256 weights in 8 groups of 32, `x ≈ d·sc·q − dmin·m` with 5-bit `q`
/// (low 4 bits in `qs`, the high bit in `qh`), and Q4_K's 6-bit scales and mins (176 bytes, 5.5 bpw).
///
/// Layout (`block_q5_K`): `d`, `dmin`, `scales[12]`, `qh[32]`, `qs[128]`; level `64·c + l` has its
/// high bit in bit `2c` of `qh[l]`, level `64·c + 32 + l` in bit `2c + 1`.
public enum Q5_K: BlockQuantizer {
    public static var type: GGMLType { .q5_K }

    @usableFromInline static let blockBytes = 176

    /// Bit-exact with llama.cpp's `dequantize_row_q5_K`.
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        Q4_K.withGroupPairScratch { levels, wide in
            for i in 0..<blocks {
                let block = src + i &* blockBytes
                let bytes = block.assumingMemoryBound(to: UInt8.self)
                let qh = bytes + 16
                let d = block.loadHalf(at: 0)
                let dmin = block.loadHalf(at: 2)
                for chunk in 0..<4 {
                    let ql = bytes + (48 &+ 32 &* chunk)
                    let shift = UInt8(truncatingIfNeeded: 2 &* chunk)
                    for l in 0..<32 {
                        let high = qh[l] &>> shift
                        levels[l] = (ql[l] & 0xF) | ((high & 1) &<< 4)
                        levels[32 &+ l] = (ql[l] &>> 4) | ((high & 2) &<< 3)
                    }
                    Q4_K.dequantizeGroupPair(levels, chunk, scales: bytes + 4, d: d, dmin: dmin, scratch: wide,
                                             into: dst + (i &* kQK &+ 64 &* chunk))
                }
            }
        }
    }

    /// Bit-exact with llama.cpp's `quantize_row_q5_K_ref` (what `llama-quantize` writes for Q5_K
    /// without an importance matrix).
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        Q4_K.withScaleMinScratch { scratch in
            for i in 0..<blocks {
                let block = dst + i &* blockBytes
                Q4_K.quantizeScalesAndLevels(src + i &* kQK, into: block, nmax: 31, rmin: -0.5,
                                             rdelta: 0.1, nstep: 15, scratch: scratch)
                let levels = scratch.levels
                let qh = block.assumingMemoryBound(to: UInt8.self) + 16
                for l in 0..<32 { qh[l] = 0 }
                for chunk in 0..<4 {
                    let ql = qh + (32 &+ 32 &* chunk)
                    let m1 = UInt8(1) &<< UInt8(truncatingIfNeeded: 2 &* chunk)
                    let m2 = m1 &<< 1
                    for l in 0..<32 {
                        let pair = SIMD8<UInt8>(truncatingIfNeeded: integerLevels(levels[l]))
                        let l1 = pair[2 &* chunk], l2 = pair[2 &* chunk &+ 1]
                        if l1 > 15 { qh[l] |= m1 }
                        if l2 > 15 { qh[l] |= m2 }
                        ql[l] = (l1 & 0xF) | ((l2 & 0xF) &<< 4)
                    }
                }
            }
        }
    }
}
