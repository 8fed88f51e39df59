// Float -> integer conversions exactly as ggml-quants.c performs them on x86-64.

/// ggml's `nearest_int`: rounds to the nearest integer, ties to even, by adding 1.5·2²³ and reading
/// the low mantissa bits.
///
/// Valid for |x| ≤ 4 194 303 (ggml asserts this); outside that range, for NaN or infinity the result
/// is what the same bit trick gives (garbage, but no trap), as in ggml's release builds.
@inlinable @inline(__always)
public func nearestInt(_ x: Float) -> Int32 {
    let shifted = x + 12_582_912
    return Int32(bitPattern: shifted.bitPattern & 0x007F_FFFF) &- 0x0040_0000
}

/// C's `(int)x` conversion of a float as x86-64 executes it (`cvttss2si`): truncation toward zero, and
/// `Int32.min` (the "integer indefinite" value) for NaN, ±inf and values outside `Int32`'s range.
///
/// ggml-quants.c converts floats to `int8_t`/`uint8_t` with a plain cast (`(int8_t)(x0 + 8.5f)`),
/// which compilers lower to this 32-bit conversion followed by keeping the low byte; use
/// `Int8(truncatingIfNeeded: truncatingToInt32(x))` for that. Never traps.
@inlinable @inline(__always)
public func truncatingToInt32(_ x: Float) -> Int32 {
    x.magnitude < 0x1p31 ? Int32(x) : Int32.min
}

/// C's `(int8_t)x` / `(uint8_t)x` conversion of a float as x86-64 executes it: the low byte of
/// ``truncatingToInt32(_:)``, as a signed value. Never traps.
@inlinable @inline(__always)
public func truncatingToInt8(_ x: Float) -> Int8 {
    Int8(truncatingIfNeeded: truncatingToInt32(x))
}

/// C's `(int)roundf(x)` as x86-64 executes it: rounds half away from zero, then converts like
/// ``truncatingToInt32(_:)`` (`Int32.min` for NaN and magnitudes of 2³¹ or more). Never traps.
///
/// Computed with integer conversion and one comparison instead of `Float.rounded(_:)`, which lowers to
/// a libm `roundf` call on baseline x86-64 (no SSE4.1) that modules inlining this code may not link.
@inlinable @inline(__always)
public func roundedToInt32(_ x: Float) -> Int32 {
    guard x.magnitude < 0x1p31 else { return Int32.min }
    let truncated = Int32(x)
    // Exact: x and its integer part share their exponent range, so the difference is representable.
    let fraction = x - Float(truncated)
    return fraction >= 0.5 ? truncated &+ 1 : fraction <= -0.5 ? truncated &- 1 : truncated
}

// A fast path for the quantizers' inner loops. Valid only for |x| < 2²²; there it equals
// `roundedToInt32` exactly, without the trapping (hence unvectorizable) `Int32(_: Float)`
// conversion. Callers check the range once per block. (Non-negative truncations use
// `flooredLevel`, in Legacy/BlockScan.swift.)

/// `(int)roundf(x)` for |x| < 2²²: rounding half away from zero.
@inlinable @inline(__always)
func roundedSmall(_ x: Float) -> Int32 {
    let a = x.magnitude
    let nearest = nearestInt(a) // ties to even: a tie rounded down is off by one
    let away = a - Float(nearest) == 0.5 ? nearest &+ 1 : nearest
    return x < 0 ? 0 &- away : away
}

/// Whether all 32 floats at `x` are finite: then a block's quantized values are bounded by its scale.
@inlinable @inline(__always)
func allFinite32(_ x: UnsafePointer<Float>) -> Bool {
    // An all-ones exponent carries into bit 31 when 2⁻¹²⁶'s bit pattern is added: no comparison, so
    // the loop has no early exit and vectorizes.
    var special: UInt32 = 0
    for j in 0..<32 {
        special |= (x[j].bitPattern & 0x7F80_0000) &+ 0x0080_0000
    }
    return special & 0x8000_0000 == 0
}
