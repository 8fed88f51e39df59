// bfloat16 (ggml's BF16) <-> binary32 conversions, bit for bit as ggml computes them.

/// Converts a bfloat16 (its bit pattern) to `Float`, exactly as ggml's `GGML_BF16_TO_FP32`: the 16 bits
/// become the high half of the float. Lossless for every value, NaN payloads included.
@inlinable @inline(__always)
public func bf16ToFloat(_ h: UInt16) -> Float {
    Float(bitPattern: UInt32(h) &<< 16)
}

/// Converts a `Float` to bfloat16 (its bit pattern), exactly as ggml's `GGML_FP32_TO_BF16`
/// (`ggml_compute_fp32_to_bf16` in `ggml-impl.h`, what llama-quantize writes for BF16).
///
/// Rounds to nearest, ties to even (values that round past the largest finite bf16 become ±inf);
/// subnormals are kept, not flushed. A NaN keeps its sign and top payload bits and is made quiet
/// (bit 6 of the result set). Branch-free (one select); vectorizes.
@inlinable @inline(__always)
public func floatToBF16(_ f: Float) -> UInt16 {
    let u = f.bitPattern
    let quietNaN = (u &>> 16) | 64
    let rounded = (u &+ (0x7FFF &+ ((u &>> 16) & 1))) &>> 16
    let isNaN = (u & 0x7FFF_FFFF) > 0x7F80_0000
    return UInt16(truncatingIfNeeded: isNaN ? quietNaN : rounded)
}
