// IEEE binary16 ("half", ggml's F16) <-> binary32 conversions, bit for bit as ggml computes them.

/// Converts an IEEE half (its bit pattern) to `Float`, exactly as ggml's `GGML_FP16_TO_FP32`
/// (`ggml_compute_fp16_to_fp32` in `ggml-impl.h`).
///
/// Every finite half, ±0 and ±inf convert exactly (the conversion is lossless). NaNs keep their sign
/// and payload and come out quiet (the exponent is rebiased and then multiplied by 2⁻¹¹², which
/// quiets a signaling NaN, as in ggml). Branch-free: normal halves are rebiased by adding 224 to the
/// exponent and scaling by 2⁻¹¹²; subnormal halves use the `0.5 + m·2⁻²⁴ − 0.5` trick, so no
/// subnormal `Float` is ever formed. Vectorizes.
@inlinable @inline(__always)
public func halfToFloat(_ h: UInt16) -> Float {
    let w = UInt32(h) &<< 16
    let sign = w & 0x8000_0000
    let twoW = w &+ w
    // Exponent + (0xE0 << 23), then × 2⁻¹¹²: a net bias change of 127 − 15 = 112. Exponent 31
    // (inf/NaN) lands on 0xFF and stays inf/NaN.
    let normalized = Float(bitPattern: (twoW &>> 4) &+ (0xE0 &<< 23)) * 0x1p-112
    // Subnormal: put the 10 mantissa bits under a 0.5 exponent and subtract 0.5.
    let denormalized = Float(bitPattern: (twoW &>> 17) | (126 &<< 23)) - 0.5
    let magnitude = twoW < (1 &<< 27) ? denormalized.bitPattern : normalized.bitPattern
    return Float(bitPattern: sign | magnitude)
}

/// ``halfToFloat(_:)`` of eight halves, spelled in vector operations (the same steps lane by lane):
/// for loops that do more with each value than store it, which LLVM would not vectorize. Only plain
/// lane arithmetic: the subnormal select is a mask from an arithmetic shift, because Swift's vector
/// comparisons and widening conversions compile to a loop over the lanes.
@inlinable @inline(__always)
func halfToFloat(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
    let z: UInt16 = 0
    let w = unsafeBitCast(SIMD16(z, h[0], z, h[1], z, h[2], z, h[3], z, h[4], z, h[5], z, h[6], z, h[7]), to: SIMD8<UInt32>.self)
    let sign = w & 0x8000_0000
    let twoW = w &+ w
    let normalized = unsafeBitCast(unsafeBitCast((twoW &>> 4) &+ (0xE0 &<< 23), to: SIMD8<Float>.self) * 0x1p-112, to: SIMD8<UInt32>.self)
    let denormalized = unsafeBitCast(unsafeBitCast((twoW &>> 17) | (126 &<< 23), to: SIMD8<Float>.self) - 0.5, to: SIMD8<UInt32>.self)
    // All ones where the exponent bits (twoW >> 27) are zero: 0 − 1 shifted arithmetically.
    let subnormal = unsafeBitCast(unsafeBitCast((twoW &>> 27) &- 1, to: SIMD8<Int32>.self) &>> 31, to: SIMD8<UInt32>.self)
    return unsafeBitCast(sign | (normalized & ~subnormal) | (denormalized & subnormal), to: SIMD8<Float>.self)
}

/// Sixteen halves on their way to `Float`, with most of the work in sixteen-bit lanes: twice the
/// values of each vector step of ``halfToFloat(_:)-(SIMD8<UInt16>)``, which is what decides the speed
/// on a four-float vector unit (SSE2, NEON; 1.6× here).
///
/// A normal half's float is `sign | (magnitude >> 3 + 0x3800) << 16 | (half << 13) & 0xFFFF`: its
/// high and low sixteen bits are built apart and interleaved. Infinities and NaNs take 0x3800 more
/// (exponent 255), and a NaN's quiet bit is set, as ggml's multiply sets it. Zero and subnormal halves
/// do not fit the pattern: ``floats`` takes the 32-bit lane conversion for sixteen halves with one of
/// them (in model weights about 0.2 % of halves, and the odd exact zero).
@usableFromInline @frozen
struct SixteenHalves {
    @usableFromInline let bits: SIMD16<Int16>
    @usableFromInline let magnitudes: SIMD16<Int16>

    @inlinable @inline(__always)
    init(_ words: SIMD16<UInt16>) {
        bits = unsafeBitCast(words, to: SIMD16<Int16>.self)
        magnitudes = bits & 0x7FFF
    }

    /// All ones in each lane whose half is ±0 or subnormal (an arithmetic-shift mask: Swift's vector
    /// comparisons compile to a loop over the lanes).
    @inlinable @inline(__always)
    var zeroOrSubnormal: SIMD16<Int16> { (magnitudes &- 0x0400) &>> 15 }

    /// The floats, exact when no lane is zero or subnormal.
    @inlinable @inline(__always)
    var floatsOfNormalLanes: (low: SIMD8<Float>, high: SIMD8<Float>) {
        let infOrNaN = (0x7BFF &- magnitudes) &>> 15, nan = (0x7C00 &- magnitudes) &>> 15
        let high = (bits & ~0x7FFF) | ((magnitudes &>> 3) &+ 0x3800 &+ (infOrNaN & 0x3800)) | (nan & 0x0040)
        let l = unsafeBitCast(bits &<< 13, to: SIMD16<UInt16>.self), h = unsafeBitCast(high, to: SIMD16<UInt16>.self)
        let first = SIMD16(l[0], h[0], l[1], h[1], l[2], h[2], l[3], h[3], l[4], h[4], l[5], h[5], l[6], h[6], l[7], h[7])
        let second = SIMD16(l[8], h[8], l[9], h[9], l[10], h[10], l[11], h[11], l[12], h[12], l[13], h[13], l[14], h[14], l[15], h[15])
        return (unsafeBitCast(first, to: SIMD8<Float>.self), unsafeBitCast(second, to: SIMD8<Float>.self))
    }

    /// The floats of the sixteen halves (``halfToFloat(_:)`` lane by lane).
    @inlinable @inline(__always)
    var floats: (low: SIMD8<Float>, high: SIMD8<Float>) {
        if anyLane(zeroOrSubnormal) {
            let words = unsafeBitCast(bits, to: SIMD16<UInt16>.self)
            return (halfToFloat(words.lowHalf), halfToFloat(words.highHalf))
        }
        return floatsOfNormalLanes
    }
}

/// Converts a `Float` to an IEEE half (its bit pattern), exactly as ggml's `GGML_FP32_TO_FP16`
/// (`ggml_compute_fp32_to_fp16` in `ggml-impl.h`).
///
/// Rounds to nearest, ties to even; magnitudes at or above 65520 become ±inf; results below the
/// smallest normal half become subnormal halves (rounded to nearest even) or ±0. Every NaN becomes
/// `sign | 0x7E00` (ggml drops the payload; this differs from a hardware `vcvtps2ph`, which keeps the
/// top payload bits). Branch-free; a normal half's mantissa is rounded in integer steps where ggml
/// rounds with a float addition, the comparisons are signed (SSE2 has no unsigned ones) and the clamp
/// is one `minps`: the same half as ggml's steps for every one of the 2³² floats (checked
/// exhaustively), 10–15 % faster vectorized, SSE2 and AVX-512.
@inlinable @inline(__always)
public func floatToHalf(_ f: Float) -> UInt16 {
    let w = f.bitPattern
    let magnitude = w & 0x7FFF_FFFF
    // Every magnitude from 65520 up rounds to infinity: clamped there (a NaN too, `<` being false),
    // the rounding below gives 0x7C00 for all of them.
    let m = Float(bitPattern: magnitude)
    let clamped = (m < 65520 ? m : 65520).bitPattern
    // A normal half: the mantissa rounded to ten bits, to nearest even (adding 0xFFF and the lowest
    // kept bit carries into the exponent when it must), and the exponent rebiased by 127 − 15.
    let normal = (clamped &+ (0x0FFF &- (112 &<< 23)) &+ ((clamped &>> 13) & 1)) &>> 13
    // A subnormal half or zero: added to 0.5, the value is rounded to a multiple of 2⁻²⁴ (to nearest
    // even, by the FPU), and the sum's mantissa bits are the half's.
    let subnormal = (Float(bitPattern: clamped) + 0.5).bitPattern &- 0x3F00_0000
    let half = Int32(bitPattern: magnitude) < 0x3880_0000 ? subnormal : normal
    // A NaN: 0x7C00 from the clamp, and the quiet bit.
    let nan: UInt32 = Int32(bitPattern: magnitude) > 0x7F80_0000 ? 0x0200 : 0
    return UInt16(truncatingIfNeeded: half | nan | ((w &>> 16) & 0x8000))
}

extension UnsafeRawPointer {
    /// The little-endian half at `offset` (any alignment), as `Float` (from `halfToFloatTable`).
    @inlinable @inline(__always)
    func loadHalf(at offset: Int) -> Float {
        halfToFloatTable[Int(UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)))]
    }
}

extension UnsafeMutableRawPointer {
    /// Stores half bits little-endian at `offset` (any alignment).
    @inlinable @inline(__always)
    func storeHalf(_ bits: UInt16, at offset: Int) {
        storeBytes(of: bits.littleEndian, toByteOffset: offset, as: UInt16.self)
    }
}

/// ``halfToFloat(_:)`` of every half, indexed by its bits (256 KiB): one load instead of a dozen
/// scalar instructions, for decoders whose blocks are too small to hide the conversion.
@usableFromInline
nonisolated(unsafe) let halfToFloatTable: UnsafePointer<Float> = {
    let table = UnsafeMutablePointer<Float>.allocate(capacity: 1 << 16)
    for bits in 0 ..< (1 << 16) { table[bits] = halfToFloat(UInt16(bits)) }
    return UnsafePointer(table)
}()
