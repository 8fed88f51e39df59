import GGUF

/// `BF16` tensors: little-endian bfloat16, one element a block.
///
/// Bit-exact with ggml's `ggml_bf16_to_fp32_row` / `ggml_fp32_to_bf16_row_ref` (what llama-quantize
/// writes for BF16): see ``bf16ToFloat(_:)`` and ``floatToBF16(_:)``.
public enum BF16Codec: BlockQuantizer {
    public static var type: GGMLType { .bf16 }

    /// Thirty-two values an iteration, eight a vector: each 16-bit value interleaved above a zero
    /// (3 % faster than the loop LLVM vectorizes from the scalar form, which loads eight bytes at a
    /// time).
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        var i = 0
        #if _endian(little)  // the vector lanes are the file's little-endian values as they lie
        let out = UnsafeMutableRawPointer(dst)
        while i &+ 32 <= blocks {
            for k in stride(from: 0, to: 32, by: 8) {
                let words = src.loadUnaligned(fromByteOffset: (i &+ k) &* 2, as: SIMD8<UInt16>.self)
                out.storeBytes(of: highHalves(words), toByteOffset: (i &+ k) &* 4, as: SIMD8<Float>.self)
            }
            i &+= 32
        }
        #endif
        while i < blocks {
            dst[i] = bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
            i &+= 1
        }
    }

    @inlinable
    public static func squaredError(_ src: UnsafeRawPointer, reference: UnsafePointer<Float>, blocks: Int) -> (error: Double, signal: Double)? {
        squaredErrorOfWords(src, reference: reference, count: blocks, sixteen: { (highHalves($0.lowHalf), highHalves($0.highHalf)) }, one: { bf16ToFloat($0) })
    }

    /// Eight floats whose high halves are `words` (little-endian lanes) and low halves zero.
    @inlinable @inline(__always)
    static func highHalves(_ words: SIMD8<UInt16>) -> SIMD8<Float> {
        let w = words, z: UInt16 = 0
        return unsafeBitCast(SIMD16(z, w[0], z, w[1], z, w[2], z, w[3], z, w[4], z, w[5], z, w[6], z, w[7]), to: SIMD8<Float>.self)
    }

    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        for i in 0..<blocks {
            dst.storeBytes(of: floatToBF16(src[i]).littleEndian, toByteOffset: i &* 2, as: UInt16.self)
        }
    }
}
