import GGUF

/// `Σ (decoded − reference)²` and `Σ reference²`, summed in `Float` lanes (so that the loops feeding
/// them vectorize) and added up in `Double` at the end: precise enough for a report of the error a
/// requantization adds, never used for output bytes.
///
/// Thirty-two values an addition, in two sets of sixteen lanes: each sum is a chain of dependent
/// additions, and with one set of eight lanes the chain's latency, not the arithmetic, set the pace.
@usableFromInline
struct ErrorSums {
    @usableFromInline var error = (SIMD16<Float>(), SIMD16<Float>())
    @usableFromInline var signal = (SIMD16<Float>(), SIMD16<Float>())
    /// Elements added one at a time (a tail shorter than thirty-two).
    @usableFromInline var tail = (error: 0.0, signal: 0.0)

    @inlinable init() {}

    /// Adds thirty-two decoded values and their references, `low` then `high` sixteen.
    @inlinable @inline(__always)
    mutating func add(_ decoded: (low: SIMD16<Float>, high: SIMD16<Float>), _ reference: (low: SIMD16<Float>, high: SIMD16<Float>)) {
        let d0 = decoded.low - reference.low, d1 = decoded.high - reference.high
        error.0 += d0 * d0
        error.1 += d1 * d1
        signal.0 += reference.low * reference.low
        signal.1 += reference.high * reference.high
    }

    @inlinable @inline(__always)
    mutating func add(_ decoded: Float, _ reference: Float) {
        let d = Double(decoded - reference)
        tail.error += d * d
        tail.signal += Double(reference) * Double(reference)
    }

    @inlinable
    var totals: (error: Double, signal: Double) {
        (Double((error.0 + error.1).sum()) + tail.error, Double((signal.0 + signal.1).sum()) + tail.signal)
    }
}

extension UnsafePointer<Float> {
    /// The thirty-two floats at `self + offset`, as two vectors of sixteen.
    @inlinable @inline(__always)
    func load32(at offset: Int) -> (low: SIMD16<Float>, high: SIMD16<Float>) {
        let raw = UnsafeRawPointer(self + offset)
        return (raw.loadUnaligned(as: SIMD16<Float>.self), raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
    }
}

/// `(Σ (decoded − reference)², Σ reference²)` of `count` little-endian 16-bit floats at `src` (F16,
/// BF16): `sixteen` converts sixteen of them, `one` the tail.
@inlinable @inline(__always)
func squaredErrorOfWords(_ src: UnsafeRawPointer, reference: UnsafePointer<Float>, count: Int,
                         sixteen: (SIMD16<UInt16>) -> (low: SIMD8<Float>, high: SIMD8<Float>),
                         one: (UInt16) -> Float) -> (error: Double, signal: Double) {
    var sums = ErrorSums()
    var i = 0
    #if _endian(little)  // the vector lanes are the file's little-endian values as they lie
    while i &+ 32 <= count {
        @inline(__always) func floats(_ k: Int) -> SIMD16<Float> {
            let (low, high) = sixteen(src.loadUnaligned(fromByteOffset: (i &+ k) &* 2, as: SIMD16<UInt16>.self))
            return SIMD16(lowHalf: low, highHalf: high)
        }
        sums.add((floats(0), floats(16)), reference.load32(at: i))
        i &+= 32
    }
    #endif
    while i < count {
        sums.add(one(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))), reference[i])
        i &+= 1
    }
    return sums.totals
}

extension Codecs {
    /// `(Σ (decoded − reference)², Σ reference²)` of the blocks `encoded` (of `type`) against the
    /// floats they were encoded from: the requantization error and the signal it is measured against.
    /// Types with a fused loop compare as they decode (no decoded copy is stored and read back); the
    /// others decode into `scratch` (at least the element count) first. Float sums in lanes, totals in
    /// `Double`.
    public static func squaredError(_ type: GGMLType, _ encoded: UnsafeRawBufferPointer, against reference: UnsafeBufferPointer<Float>,
                                    scratch: UnsafeMutableBufferPointer<Float>) throws(QuantError) -> (error: Double, signal: Double) {
        guard let codec = decoder(for: type) else { throw .unsupported(type, operation: "dequantize") }
        let blocks = try blockCount(type, elements: reference.count, bytes: encoded.count)
        guard blocks > 0, let e = encoded.baseAddress, let r = reference.baseAddress else { return (0, 0) }
        if let sums = codec.squaredError(e, reference: r, blocks: blocks) { return sums }
        let decoded = UnsafeMutableBufferPointer(rebasing: scratch[..<reference.count])
        codec.dequantize(e, into: decoded.baseAddress!, blocks: blocks)
        return squaredError(UnsafeBufferPointer(decoded), against: reference)
    }

    /// `(Σ (decoded − reference)², Σ reference²)` of two float vectors of one length.
    public static func squaredError(_ decoded: UnsafeBufferPointer<Float>, against reference: UnsafeBufferPointer<Float>) -> (error: Double, signal: Double) {
        precondition(decoded.count == reference.count)
        guard let x = decoded.baseAddress, let y = reference.baseAddress else { return (0, 0) }
        var sums = ErrorSums()
        var i = 0
        while i &+ 32 <= decoded.count {
            sums.add(UnsafePointer(x).load32(at: i), y.load32(at: i))
            i &+= 32
        }
        while i < decoded.count {
            sums.add(x[i], y[i])
            i &+= 1
        }
        return sums.totals
    }
}
