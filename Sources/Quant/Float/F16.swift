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
        var sums = ErrorSums()
        var i = 0
        #if _endian(little)  // the vector lanes are the file's little-endian values as they lie
        while i &+ 32 <= blocks {
            @inline(__always) func floats(_ k: Int) -> SIMD8<Float> {
                halfToFloat(src.loadUnaligned(fromByteOffset: (i &+ k) &* 2, as: SIMD8<UInt16>.self))
            }
            sums.add((SIMD16(lowHalf: floats(0), highHalf: floats(8)), SIMD16(lowHalf: floats(16), highHalf: floats(24))),
                     reference.load32(at: i))
            i &+= 32
        }
        #endif
        while i < blocks {
            sums.add(halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))), reference[i])
            i &+= 1
        }
        return sums.totals
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
