import GGUF

/// `Q2_0`: blocks of 64 weights as an F16 scale `d` and 2-bit codes `q`, `x = (q − 1)·d` (levels −1, 0,
/// 1, 2); 18 bytes (2.25 bpw).
///
/// Layout (`block_q2_0`): `d` (2 bytes), then 16 bytes, element `j` in bits `2(j % 4)…2(j % 4)+1` of
/// byte `j / 4`.
public enum Q2_0: BlockQuantizer {
    public static var type: GGMLType { .q2_0 }

    @inlinable static var blockBytes: Int { 18 }

    /// Bit-exact with llama.cpp's `dequantize_row_q2_0`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let y = dst + i &* 64
            let d = block.loadHalf(at: 0)
            for j in 0..<64 {
                let q = block.load(fromByteOffset: 2 &+ j &>> 2, as: UInt8.self) &>> UInt8(2 &* (j & 3)) & 3
                y[j] = Float(Int32(q) &- 1) * d
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_row_q2_0_ref` (what `quantize_q2_0` runs, with or
    /// without an importance matrix): `d = max|x|`, `q = roundf(x·(1/d)) + 1` clamped to 0…3.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        for i in 0..<blocks {
            let x = src + i &* 64
            let block = dst + i &* blockBytes
            var amax: Float = 0
            for j in 0..<64 where x[j].magnitude > amax {
                amax = x[j].magnitude
            }
            let id: Float = amax > 0 ? 1 / amax : 0
            block.storeHalf(floatToHalf(amax), at: 0)
            for byte in 0..<16 {
                var bits: UInt8 = 0
                for k in 0..<4 {
                    let q = min(max(roundedToInt32(x[4 &* byte &+ k] * id) &+ 1, 0), 3)
                    bits |= UInt8(truncatingIfNeeded: q) &<< UInt8(2 &* k)
                }
                block.storeBytes(of: bits, toByteOffset: 2 &+ byte, as: UInt8.self)
            }
        }
    }
}
