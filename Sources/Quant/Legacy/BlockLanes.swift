// A legacy block's 32 elements as two 16-lane vectors (elements 0–15 go to the low nibbles, 16–31 to
// the high nibbles), and the lane-wise conversions and packing of the legacy quantizers.

/// The 32 floats at `x` (any alignment) as elements 0–15 and 16–31.
@inlinable @inline(__always)
func load32(_ x: UnsafePointer<Float>) -> (low: SIMD16<Float>, high: SIMD16<Float>) {
    let raw = UnsafeRawPointer(x)
    return (raw.loadUnaligned(as: SIMD16<Float>.self), raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
}

/// `|v|` lane by lane (the sign bit cleared, as `fabsf`).
@inlinable @inline(__always)
func magnitude(_ v: SIMD16<Float>) -> SIMD16<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
}

/// C's `(int)x` lane by lane for |x| < 2²²: ``truncatedSmall(_:)`` on 16 lanes (nearest integer of
/// `|x|` by the 1.5·2²³ addition, one down where that rounded up, the sign put back).
@inlinable @inline(__always)
func truncatedSmall(_ x: SIMD16<Float>) -> SIMD16<Int32> {
    let a = magnitude(x)
    let shifted = a + 12_582_912
    let nearest = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) & 0x007F_FFFF) &- 0x0040_0000
    // shifted − 1.5·2²³ is exact (Sterbenz): the nearest integer as a float.
    let floor = nearest.replacing(with: nearest &- 1, where: (shifted - 12_582_912) .> a)
    return floor.replacing(with: 0 &- floor, where: x .< 0)
}

/// The 16 bytes `low[j] & 15 | (high[j] & 15) << 4` (a legacy block's `qs`).
@inlinable @inline(__always)
func nibbles(_ low: SIMD16<Int32>, _ high: SIMD16<Int32>) -> SIMD16<UInt8> {
    SIMD16<UInt8>(truncatingIfNeeded: (low & 0x0F) | (high & 0x0F) &<< 4)
}

/// Bit 4 of each of the 32 quants as a 32-bit mask (`qh` of Q5_0/Q5_1): bit `j` from `low[j]`, bit
/// `j + 16` from `high[j]`.
@inlinable @inline(__always)
func fifthBits(_ low: SIMD16<Int32>, _ high: SIMD16<Int32>) -> UInt32 {
    let lane: SIMD16<UInt32> = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    let l = (SIMD16<UInt32>(truncatingIfNeeded: low) &>> 4 & 1) &<< lane
    let h = (SIMD16<UInt32>(truncatingIfNeeded: high) &>> 4 & 1) &<< (lane &+ 16)
    return (l | h).wrappedSum() // distinct bits: the sum is their union
}
