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
