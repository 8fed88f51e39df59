import GGUF

/// `F32` tensors: little-endian IEEE binary32, one element a block. Both directions are a copy
/// (as ggml's `ggml_quantize_chunk` does for F32: a `memcpy`).
public enum F32Codec: BlockQuantizer {
    public static var type: GGMLType { .f32 }

    /// Copies `blocks` little-endian floats from `src` (any alignment) to `dst`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: blocks &* 4)
        #else
        for i in 0..<blocks {
            dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)))
        }
        #endif
    }

    /// Copies `blocks` floats from `src` to `dst` (any alignment) as little-endian floats.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        #if _endian(little)
        dst.copyMemory(from: src, byteCount: blocks &* 4)
        #else
        for i in 0..<blocks {
            dst.storeBytes(of: src[i].bitPattern.littleEndian, toByteOffset: i &* 4, as: UInt32.self)
        }
        #endif
    }
}
