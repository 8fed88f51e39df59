import GGUF

/// `IQ4_XS`: super-blocks of 256 weights in 8 groups of 32, `x = d·(ls − 32)·kvalues[q]` with 4-bit
/// indices `q` into the non-linear grid `kvalues_iq4nl`, a 6-bit group scale `ls` and an F16
/// super-block scale `d`; 136 bytes (4.25 bpw).
///
/// Layout (`block_iq4_xs`): `d` (2 bytes), `scales_h` (u16: bits `2g…2g+1` are the high 2 bits of group
/// `g`'s scale), `scales_l[4]` (low 4 bits of group `2k` in the low nibble of byte `k`, of `2k + 1` in
/// the high nibble), `qs[128]` (16 bytes a group, packed as in IQ4_NL).
public enum IQ4_XS: BlockQuantizer {
    public static var type: GGMLType { .iq4_XS }

    @inlinable static var blockBytes: Int { 136 }

    /// Bit-exact with llama.cpp's `dequantize_row_iq4_xs`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        withIQ4LevelTable { levels in
            for i in 0..<blocks {
                let block = src + i &* blockBytes
                let d = block.loadHalf(at: 0)
                let scalesH = UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                for g in 0..<8 {
                    let low = block.load(fromByteOffset: 4 &+ g &>> 1, as: UInt8.self) &>> (4 &* UInt8(g & 1)) & 0x0F
                    let high = UInt8(truncatingIfNeeded: scalesH &>> (2 &* UInt16(g))) & 3
                    let dl = d * Float(Int32(low | high &<< 4) &- 32)
                    let qs = block + (8 &+ 16 &* g)
                    let y = dst + (i &* 256 &+ 32 &* g)
                    for j in 0..<16 {
                        let q = Int(qs.load(fromByteOffset: j, as: UInt8.self))
                        y[j] = dl * levels.load(fromByteOffset: (q & 0x0F) &<< 2, as: Float.self)
                        y[j &+ 16] = dl * levels.load(fromByteOffset: (q &>> 4) &<< 2, as: Float.self)
                    }
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_iq4_xs` without an importance matrix (what
    /// llama-quantize writes; `quantize_row_iq4_nl_impl` with `ntry = 7`): each group's scale from
    /// ``iq4GroupScale(_:_:)``, `d = −s/32` for the group scale `s` of largest magnitude (the first),
    /// stored as F16; group `g` gets `ls = clamp(nearest_int(s_g/d), −32, 31)` and its elements the levels
    /// nearest to `x / (d·ls)`, computed with the float `d`.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        let levels = iq4Levels
        var scales = SIMD8<Float>()
        for i in 0..<blocks {
            let x = src + i &* 256
            let block = dst + i &* blockBytes
            var amaxScale: Float = 0, maxScale: Float = 0
            for g in 0..<8 {
                let s = iq4GroupScale(x + 32 &* g, levels)
                scales[g] = s
                if s.magnitude > amaxScale { amaxScale = s.magnitude; maxScale = s }
            }
            let d = -maxScale / 32
            block.storeHalf(floatToHalf(d), at: 0)
            let id: Float = d != 0 ? 1 / d : 0
            var scalesH: UInt16 = 0
            var scalesL: UInt32 = 0
            for g in 0..<8 {
                let l = Swift.max(-32, Swift.min(31, nearestInt(id * scales[g])))
                let dl = d * Float(l)
                let idl: Float = dl != 0 ? 1 / dl : 0
                iq4PackGroup(x + 32 &* g, inverseScale: idl, levels, into: block + (8 &+ 16 &* g))
                let biased = UInt32(truncatingIfNeeded: l &+ 32)
                scalesL |= (biased & 0x0F) &<< (4 &* UInt32(g))
                scalesH |= UInt16(truncatingIfNeeded: biased &>> 4) &<< (2 &* UInt16(g))
            }
            block.storeBytes(of: scalesH.littleEndian, toByteOffset: 2, as: UInt16.self)
            block.storeBytes(of: scalesL.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }
}
