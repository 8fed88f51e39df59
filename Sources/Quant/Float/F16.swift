import GGUF

/// `F16` tensors: little-endian IEEE binary16, one element a block.
///
/// Bit-exact with ggml's `ggml_fp16_to_fp32_row` / `ggml_fp32_to_fp16_row` (what llama-quantize
/// writes for F16): see ``halfToFloat(_:)`` and ``floatToHalf(_:)``.
public enum F16Codec: BlockQuantizer {
    public static var type: GGMLType { .f16 }

    /// Thirty-two halves an iteration in sixteen-bit lanes (``SixteenHalves``), one test for zero and
    /// subnormal halves for all of them.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        var i = 0
        #if _endian(little)  // the vector lanes are the file's little-endian values as they lie
        let out = UnsafeMutableRawPointer(dst)
        while i &+ 32 <= blocks {
            let a = SixteenHalves(src.loadUnaligned(fromByteOffset: i &* 2, as: SIMD16<UInt16>.self))
            let b = SixteenHalves(src.loadUnaligned(fromByteOffset: (i &+ 16) &* 2, as: SIMD16<UInt16>.self))
            @inline(__always) func store(_ floats: (low: SIMD8<Float>, high: SIMD8<Float>), at k: Int) {
                out.storeBytes(of: floats.low, toByteOffset: (i &+ k) &* 4, as: SIMD8<Float>.self)
                out.storeBytes(of: floats.high, toByteOffset: (i &+ k &+ 8) &* 4, as: SIMD8<Float>.self)
            }
            if SixteenHalves.any(a.zeroOrSubnormal | b.zeroOrSubnormal) {
                store(a.floats, at: 0)
                store(b.floats, at: 16)
            } else {
                store(a.floatsOfNormalLanes, at: 0)
                store(b.floatsOfNormalLanes, at: 16)
            }
            i &+= 32
        }
        #endif
        while i < blocks {
            dst[i] = halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
            i &+= 1
        }
    }

    @inlinable
    public static func squaredError(_ src: UnsafeRawPointer, reference: UnsafePointer<Float>, blocks: Int) -> (error: Double, signal: Double)? {
        squaredErrorOfWords(src, reference: reference, count: blocks, sixteen: { SixteenHalves($0).floats }, one: { halfToFloat($0) })
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
