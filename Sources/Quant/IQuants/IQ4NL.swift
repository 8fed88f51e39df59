import GGUF

/// `IQ4_NL`: blocks of 32 weights as an F16 scale `d` and 32 4-bit indices into the non-linear grid
/// `kvalues_iq4nl` (`x = d·kvalues[q]`); 18 bytes (4.5 bpw).
///
/// Layout (`block_iq4_nl`): `d` (2 bytes), then 16 bytes whose low nibbles hold elements 0–15 and high
/// nibbles elements 16–31.
public enum IQ4_NL: BlockQuantizer {
    public static var type: GGMLType { .iq4_NL }

    @inlinable static var blockBytes: Int { 18 }

    /// Bit-exact with llama.cpp's `dequantize_row_iq4_nl`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        withIQ4LevelTable { levels in
            for i in 0..<blocks {
                let block = src + i &* blockBytes
                let y = dst + i &* 32
                let d = block.loadHalf(at: 0)
                for j in 0..<16 {
                    let q = Int(block.load(fromByteOffset: 2 &+ j, as: UInt8.self))
                    y[j] = d * levels.load(fromByteOffset: (q & 0x0F) &<< 2, as: Float.self)
                    y[j &+ 16] = d * levels.load(fromByteOffset: (q &>> 4) &<< 2, as: Float.self)
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_iq4_nl` without an importance matrix (what
    /// llama-quantize writes; `quantize_row_iq4_nl_impl` with `ntry = 7`): the group scale of
    /// ``iq4GroupScale(_:_:)`` stored as F16, each element the level nearest to `x / scale` (computed
    /// with the float scale, before F16 rounding). A block with `max|x| < 1e-15` stores `d = 0` and
    /// index 8 (level 1) everywhere.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        let levels = iq4Levels
        for i in 0..<blocks {
            let x = src + i &* 32
            let block = dst + i &* blockBytes
            let scale = iq4GroupScale(x, levels)
            block.storeHalf(floatToHalf(scale), at: 0)
            let id: Float = scale != 0 ? 1 / scale : 0
            iq4PackGroup(x, inverseScale: id, levels, into: block + 2)
        }
    }
}
