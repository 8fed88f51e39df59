import GGUF

/// `Q1_0`: blocks of 128 weights as an F16 scale `d` and one sign bit each (`x = ±d`); 18 bytes
/// (1.125 bpw).
///
/// Layout (`block_q1_0`): `d` (2 bytes), then 16 bytes, element `j` in bit `j % 8` of byte `j / 8`
/// (set: `+d`).
public enum Q1_0: BlockQuantizer {
    public static var type: GGMLType { .q1_0 }

    @inlinable static var blockBytes: Int { 18 }

    /// Bit-exact with llama.cpp's `dequantize_row_q1_0`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let y = dst + i &* 128
            let d = block.loadHalf(at: 0)
            for j in 0..<128 {
                let bit = block.load(fromByteOffset: 2 &+ j &>> 3, as: UInt8.self) &>> UInt8(j & 7) & 1
                y[j] = bit != 0 ? d : -d
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_row_q1_0_ref` (what `quantize_q1_0` runs, with or
    /// without an importance matrix): `d` the mean magnitude (summed in order), bit set for `x ≥ 0`.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        for i in 0..<blocks {
            let x = src + i &* 128
            let block = dst + i &* blockBytes
            var sum: Float = 0
            for j in 0..<128 {
                sum += x[j].magnitude
            }
            block.storeHalf(floatToHalf(sum / 128), at: 0)
            for byte in 0..<16 {
                var bits: UInt8 = 0
                for k in 0..<8 where x[8 &* byte &+ k] >= 0 {
                    bits |= 1 &<< UInt8(k)
                }
                block.storeBytes(of: bits, toByteOffset: 2 &+ byte, as: UInt8.self)
            }
        }
    }
}
