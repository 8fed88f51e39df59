/// Sixteen bytes widened to sixteen floats in four `SIMD4<Float>`, in order: byte `4k + j` is lane `j`
/// of vector `k`.
///
/// Portable Swift widens a byte vector one lane at a time, and LLVM's own widening of a byte loop
/// loads four bytes per vector. This spells out what SSE2 and NEON do with sixteen: interleave with
/// zero bytes (16-bit lanes), then with the high half of 2²³'s bit pattern (`0x4B00`), which makes each
/// 32-bit lane the float 2²³ + byte. Subtracting 2²³ is exact, so the lanes equal `Float(byte)`, with
/// no integer-to-float conversion at all.
@usableFromInline
struct ByteLanes {
    @usableFromInline var v0, v1, v2, v3: SIMD4<Float>

    /// The unsigned bytes of `u` as floats 0…255.
    @inlinable @inline(__always)
    init(_ u: SIMD16<UInt8>) {
        self.init(biased: u, minus: 0x1p23)
    }

    /// The bytes of `u` read as `Int8`, as floats −128…127: flipping the sign bit maps them to
    /// 0…255 in order, and 128 more comes off with 2²³.
    @inlinable @inline(__always)
    init(signed u: SIMD16<UInt8>) {
        self.init(biased: u ^ 0x80, minus: 0x1p23 + 128)
    }

    /// The sixteen bytes of `w` (little-endian words) as floats 0…255.
    @inlinable @inline(__always)
    init(_ w: SIMD4<UInt32>) {
        self.init(unsafeBitCast(w, to: SIMD16<UInt8>.self))
    }

    /// Sixteen 16-bit values as floats, `low` then `high` (two interleaves with 2²³'s high half each).
    @inlinable @inline(__always)
    init(words low: SIMD8<UInt16>, _ high: SIMD8<UInt16>, minus bias: Float = 0x1p23) {
        let first = Self.floats(low, minus: bias), second = Self.floats(high, minus: bias)
        v0 = first.lowHalf
        v1 = first.highHalf
        v2 = second.lowHalf
        v3 = second.highHalf
    }

    @inlinable @inline(__always)
    init(biased u: SIMD16<UInt8>, minus bias: Float) {
        let (low, high) = Self.widen(u)
        self.init(words: low, high, minus: bias)
    }

    /// The bytes of `u` zero-extended to 16 bits, bytes 0…7 and 8…15 (interleaves with zero bytes).
    @inlinable @inline(__always)
    static func widen(_ u: SIMD16<UInt8>) -> (SIMD8<UInt16>, SIMD8<UInt16>) {
        let z: UInt8 = 0
        let bytes = SIMD32(u[0], z, u[1], z, u[2], z, u[3], z, u[4], z, u[5], z, u[6], z, u[7], z,
                           u[8], z, u[9], z, u[10], z, u[11], z, u[12], z, u[13], z, u[14], z, u[15], z)
        let words = unsafeBitCast(bytes, to: SIMD16<UInt16>.self)
        return (words.lowHalf, words.highHalf)
    }

    /// Eight 16-bit values as the floats 2²³ + value − `bias` (one interleave with 2²³'s high half,
    /// spelled as a whole: SSE2's low and high word interleaves).
    @inlinable @inline(__always)
    static func floats(_ w: SIMD8<UInt16>, minus bias: Float) -> SIMD8<Float> {
        let e: UInt16 = 0x4B00
        let words = SIMD16(w[0], e, w[1], e, w[2], e, w[3], e, w[4], e, w[5], e, w[6], e, w[7], e)
        return unsafeBitCast(words, to: SIMD8<Float>.self) - bias
    }

    /// Stores `scale · lane − offset` (rounded after each operation, as ggml's decoders) at
    /// `y[0..<16]`.
    @inlinable @inline(__always)
    func store(times scale: Float, minus offset: Float, to y: UnsafeMutablePointer<Float>) {
        let raw = UnsafeMutableRawPointer(y)
        raw.storeBytes(of: scale * v0 - offset, toByteOffset: 0, as: SIMD4<Float>.self)
        raw.storeBytes(of: scale * v1 - offset, toByteOffset: 16, as: SIMD4<Float>.self)
        raw.storeBytes(of: scale * v2 - offset, toByteOffset: 32, as: SIMD4<Float>.self)
        raw.storeBytes(of: scale * v3 - offset, toByteOffset: 48, as: SIMD4<Float>.self)
    }

    /// Stores `lane · scale` at `y[0..<16]`.
    @inlinable @inline(__always)
    func store(times scale: Float, to y: UnsafeMutablePointer<Float>) {
        let raw = UnsafeMutableRawPointer(y)
        raw.storeBytes(of: v0 * scale, toByteOffset: 0, as: SIMD4<Float>.self)
        raw.storeBytes(of: v1 * scale, toByteOffset: 16, as: SIMD4<Float>.self)
        raw.storeBytes(of: v2 * scale, toByteOffset: 32, as: SIMD4<Float>.self)
        raw.storeBytes(of: v3 * scale, toByteOffset: 48, as: SIMD4<Float>.self)
    }

    /// Stores `scale · (lane + offset)` at `y[0..<16]`, `offset` being `first` for lanes 0…7 and
    /// `second` for 8…15 (the IQ1 grids: two points of eight with their own shift each).
    @inlinable @inline(__always)
    func store(adding first: Float, _ second: Float, times scale: Float, to y: UnsafeMutablePointer<Float>) {
        let raw = UnsafeMutableRawPointer(y)
        raw.storeBytes(of: scale * (v0 + first), toByteOffset: 0, as: SIMD4<Float>.self)
        raw.storeBytes(of: scale * (v1 + first), toByteOffset: 16, as: SIMD4<Float>.self)
        raw.storeBytes(of: scale * (v2 + second), toByteOffset: 32, as: SIMD4<Float>.self)
        raw.storeBytes(of: scale * (v3 + second), toByteOffset: 48, as: SIMD4<Float>.self)
    }
}
