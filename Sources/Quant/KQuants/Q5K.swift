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
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let d = block.loadHalf(at: 0)
            let dmin = block.loadHalf(at: 2)
            for chunk in 0..<4 {
                let y = dst + (i &* kQK &+ 64 &* chunk)
                let (d1, min1, d2, min2) = Q4_K.groupPairScales(chunk, block + 4, d: d, dmin: dmin)
                let shift = UInt32(truncatingIfNeeded: 2 &* chunk)
                for half in 0..<2 {
                    let ql = block.loadUnaligned(fromByteOffset: 48 &+ 32 &* chunk &+ 16 &* half, as: SIMD4<UInt32>.self)
                    let qh = block.loadUnaligned(fromByteOffset: 16 &+ 16 &* half, as: SIMD4<UInt32>.self) &>> shift
                    ByteLanes((ql & 0x0F0F_0F0F) | ((qh & 0x0101_0101) &<< 4))
                        .store(times: d1, minus: min1, to: y + 16 &* half)
                    ByteLanes(((ql &>> 4) & 0x0F0F_0F0F) | ((qh & 0x0202_0202) &<< 3))
                        .store(times: d2, minus: min2, to: y + (32 &+ 16 &* half))
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
