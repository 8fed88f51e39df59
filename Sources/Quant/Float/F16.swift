import GGUF

/// `F16` tensors: little-endian IEEE binary16, one element a block.
///
/// Bit-exact with ggml's `ggml_fp16_to_fp32_row` / `ggml_fp32_to_fp16_row` (what llama-quantize
/// writes for F16): see ``halfToFloat(_:)`` and ``floatToHalf(_:)``.
public enum F16Codec: BlockQuantizer {
    public static var type: GGMLType { .f16 }

    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        if decodesInSixteenBitLanes {
            dequantizeInSixteenBitLanes(src, into: dst, blocks: blocks)
        } else {
            dequantizeInFloatLanes(src, into: dst, blocks: blocks)
        }
    }

    @inlinable
    public static func squaredError(_ src: UnsafeRawPointer, reference: UnsafePointer<Float>, blocks: Int) -> (error: Double, signal: Double)? {
        if decodesInSixteenBitLanes {
            return squaredErrorOfWords(src, reference: reference, count: blocks, sixteen: { SixteenHalves($0).floats }, one: { halfToFloat($0) })
        }
        return squaredErrorOfWords(src, reference: reference, count: blocks,
                                   sixteen: { (halfToFloat($0.lowHalf), halfToFloat($0.highHalf)) }, one: { halfToFloat($0) })
    }

    /// Whether rows of halves decode faster in sixteen-bit lanes than a float a lane, in this build on
    /// this CPU; the bits are the same either way. A float a lane (``halfToFloat(_:)``) the compiler
    /// vectorizes to the vector unit's width: sixteen floats a step with AVX-512. Sixteen-bit lanes
    /// (``SixteenHalves``) take twice the halves a step: 1.6× faster where a vector holds four floats
    /// (SSE2, the portable x86-64 build; NEON), 0.7× with AVX-512. Swift code cannot ask which vector
    /// unit it is compiled for, so the first use times both, alternately, on the same 16 Ki halves
    /// (about 0.1 ms) and keeps the faster.
    @usableFromInline
    static let decodesInSixteenBitLanes: Bool = {
        let count = 16 << 10
        let halves = UnsafeMutablePointer<UInt16>.allocate(capacity: count)
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer {
            halves.deallocate()
            floats.deallocate()
        }
        // Halves like a model's weights: both signs, normal, magnitudes 2⁻¹² to 2⁻¹ (a hash's bits).
        for i in 0 ..< count {
            let hash = UInt32(truncatingIfNeeded: i) &* 2_654_435_761
            halves[i] = UInt16(0x0C00 + (hash >> 8) % 0x2C00) | UInt16(hash >> 16 & 0x8000)
        }
        let clock = ContinuousClock()
        var floatLanes = Duration.seconds(1), sixteenBitLanes = Duration.seconds(1)
        for _ in 0 ..< 5 {
            floatLanes = min(floatLanes, clock.measure { dequantizeInFloatLanes(halves, into: floats, blocks: count) })
            sixteenBitLanes = min(sixteenBitLanes, clock.measure { dequantizeInSixteenBitLanes(halves, into: floats, blocks: count) })
        }
        // (Reading a result keeps the timed stores.)
        return sixteenBitLanes < floatLanes || floats[count - 1].isNaN
    }()

    /// A float a lane, as many lanes a step as the vector unit has. F16 data is 2-byte aligned in
    /// every file llama.cpp writes: typed loads and stores let the loop vectorize (per-element
    /// unaligned loads keep it scalar). An odd address (a file with `general.alignment` 1) takes the
    /// unaligned loop.
    @inlinable
    static func dequantizeInFloatLanes(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        if Int(bitPattern: src) & 1 == 0 {
            let halves = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<blocks { dst[i] = halfToFloat(UInt16(littleEndian: halves[i])) }
        } else {
            for i in 0..<blocks {
                dst[i] = halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
            }
        }
    }

    /// Thirty-two halves a step in sixteen-bit lanes (``SixteenHalves``), one test for zero and
    /// subnormal halves for all of them.
    @inlinable
    static func dequantizeInSixteenBitLanes(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
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
            if anyLane(a.zeroOrSubnormal | b.zeroOrSubnormal) {
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
