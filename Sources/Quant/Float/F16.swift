import GGUF

/// `F16` tensors: little-endian IEEE binary16, one element a block.
///
/// Bit-exact with ggml's `ggml_fp16_to_fp32_row` / `ggml_fp32_to_fp16_row` (what llama-quantize
/// writes for F16): see ``halfToFloat(_:)`` and ``floatToHalf(_:)``.
public enum F16Codec: BlockQuantizer {
    public static var type: GGMLType { .f16 }

    // F16 data is 2-byte aligned in every file llama.cpp writes: typed loads and stores let the loops
    // vectorize (per-element unaligned loads keep them scalar). An odd address (a file with
    // `general.alignment` 1) takes the unaligned loop.

    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        if Int(bitPattern: src) & 1 == 0 {
            let halves = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<blocks { dst[i] = halfToFloat(UInt16(littleEndian: halves[i])) }
        } else {
            for i in 0..<blocks {
                dst[i] = halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
            }
        }
    }

    @inlinable
    public static func squaredError(_ src: UnsafeRawPointer, reference: UnsafePointer<Float>, blocks: Int) -> (error: Double, signal: Double)? {
        squaredErrorOfWords(src, reference: reference, count: blocks, eight: { halfToFloat($0) }, one: { halfToFloat($0) })
    }

    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        if Int(bitPattern: dst) & 1 == 0 {
            let halves = dst.assumingMemoryBound(to: UInt16.self)
            for i in 0..<blocks { halves[i] = floatToHalf(src[i]).littleEndian }
        } else {
            for i in 0..<blocks {
                dst.storeBytes(of: floatToHalf(src[i]).littleEndian, toByteOffset: i &* 2, as: UInt16.self)
            }
        }
    }
}
