// Branch-free IEEE half-precision conversions for the K-quant codecs.
//
// Private to the K-quants for now (the lead will fold them into the shared `Float/Half.swift`).
// Swift's `Float16` conversions are slow on x86-64 without F16C; these use only integer and
// single-precision operations, in the exact order of ggml's reference routines, so every input —
// including subnormals, infinities and NaNs — maps to the same bits as in llama.cpp.

/// Converts IEEE half bits to `Float`, exactly (every half is representable).
///
/// Bit-exact with ggml's `ggml_compute_fp16_to_fp32` (`GGML_FP16_TO_FP32` in `ggml-impl.h`).
@inline(__always)
internal func kHalfToFloat(_ h: UInt16) -> Float {
    let w = UInt32(h) &<< 16
    let sign = w & 0x8000_0000
    let twoW = w &+ w
    // Normal halves: move the exponent and mantissa into place, rebias with a multiply by 2^-112.
    let normalized = Float(bitPattern: (twoW &>> 4) &+ (0xE0 &<< 23)) * Float(bitPattern: 0x0780_0000)
    // Subnormal halves: the mantissa becomes the low bits of 0.5 + m·2^-24, then 0.5 is removed.
    let denormalized = Float(bitPattern: (twoW &>> 17) | (126 &<< 23)) - 0.5
    let magnitude = twoW < (1 &<< 27) ? denormalized.bitPattern : normalized.bitPattern
    return Float(bitPattern: sign | magnitude)
}

/// Converts `Float` to IEEE half bits, rounding to nearest with ties to even; overflow gives
/// infinity and NaN gives the quiet NaN `0x7E00` with the input's sign.
///
/// Bit-exact with ggml's `ggml_compute_fp32_to_fp16` (`GGML_FP32_TO_FP16` in `ggml-impl.h`).
@inline(__always)
internal func kFloatToHalf(_ f: Float) -> UInt16 {
    // |f|·2^112·2^-110: saturates to infinity past the half range, keeps the rest exact.
    var base = (f.magnitude * Float(bitPattern: 0x7780_0000)) * Float(bitPattern: 0x0880_0000)
    let w = f.bitPattern
    let shl1W = w &+ w
    let sign = w & 0x8000_0000
    let bias = max(shl1W & 0xFF00_0000, 0x7100_0000)
    // Adding a power of two whose ulp is the half's ulp makes the FPU round the mantissa to half
    // precision (nearest, ties to even); subnormal halves use the smallest such power (bias floor).
    base = Float(bitPattern: (bias &>> 1) &+ 0x0780_0000) + base
    let bits = base.bitPattern
    let nonsign = ((bits &>> 13) & 0x0000_7C00) &+ (bits & 0x0000_0FFF)
    return UInt16(truncatingIfNeeded: (sign &>> 16) | (shl1W > 0xFF00_0000 ? 0x7E00 : nonsign))
}

extension UnsafeRawPointer {
    /// The little-endian half at `offset` (any alignment), as `Float`.
    @inline(__always)
    internal func kLoadHalf(at offset: Int) -> Float {
        kHalfToFloat(UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
}

extension UnsafeMutableRawPointer {
    /// Stores `bits` little-endian at `offset` (any alignment).
    @inline(__always)
    internal func kStoreHalf(_ bits: UInt16, at offset: Int) {
        storeBytes(of: bits.littleEndian, toByteOffset: offset, as: UInt16.self)
    }
}
