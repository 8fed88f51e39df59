import GGUF

/// `BF16` tensors: little-endian bfloat16, one element a block.
///
/// Bit-exact with ggml's `ggml_bf16_to_fp32_row` / `ggml_fp32_to_bf16_row_ref` (what llama-quantize
/// writes for BF16): see ``bf16ToFloat(_:)`` and ``floatToBF16(_:)``.
public enum BF16Codec: BlockQuantizer {
    public static var type: GGMLType { .bf16 }

    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            dst[i] = bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
        }
    }

    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        for i in 0..<blocks {
            dst.storeBytes(of: floatToBF16(src[i]).littleEndian, toByteOffset: i &* 2, as: UInt16.self)
        }
    }
}
