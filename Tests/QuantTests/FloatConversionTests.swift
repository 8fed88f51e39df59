import Testing
@testable import Quant

/// `halfToFloat`/`floatToHalf`/`bf16ToFloat`/`floatToBF16` against Swift's own IEEE conversions,
/// an independent round-to-nearest-even oracle, and ggml's functions (fixtures).
@Suite struct FloatConversionTests {
    @Test func halfToFloatIsExactForEveryNonNaNHalf() {
        var mismatches = 0
        for bits in 0...UInt16.max {
            let half = Float16(bitPattern: bits)
            if half.isNaN { continue }
            if halfToFloat(bits).bitPattern != Float(half).bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func halfToFloatMatchesGGMLOnEveryNaN() throws {
        let expected = try Fixtures.floats("nan-halves.f32")
        #expect(expected.count == 2 * 1023)
        var k = 0
        for sign in [UInt16(0), 0x8000] {
            for mantissa in UInt16(1)...1023 {
                let value = halfToFloat(sign | 0x7C00 | mantissa)
                #expect(value.isNaN)
                #expect(value.bitPattern == expected[k].bitPattern, "half \(sign | 0x7C00 | mantissa)")
                k += 1
            }
        }
    }

    /// The eight-lane conversion (the F16 error loop's in float lanes, and ``SixteenHalves``'s way for
    /// zero and subnormal halves) is the scalar one (checked against ggml) on every half, NaNs
    /// included, bit for bit.
    @Test func vectorHalfToFloatIsTheScalarOneOnEveryHalf() {
        var mismatches = 0
        for first in stride(from: 0, through: 0xFFF8, by: 8) {
            var halves = SIMD8<UInt16>()
            for lane in 0 ..< 8 { halves[lane] = UInt16(first + lane) }
            let floats = halfToFloat(halves)
            for lane in 0 ..< 8 where floats[lane].bitPattern != halfToFloat(halves[lane]).bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    /// The sixteen-bit lane conversion is the scalar one on every half, in runs of sixteen as they
    /// come (runs of zero and subnormal halves take the fallback, the rest the sixteen-bit steps) and
    /// with one subnormal or zero half put into each run of normal ones.
    @Test func sixteenHalvesAreTheScalarConversionOnEveryHalf() {
        var mismatches = 0
        func check(_ halves: SIMD16<UInt16>) {
            let (low, high) = SixteenHalves(halves).floats
            let floats = SIMD16(lowHalf: low, highHalf: high)
            for lane in 0 ..< 16 where floats[lane].bitPattern != halfToFloat(halves[lane]).bitPattern { mismatches += 1 }
        }
        for first in stride(from: 0, through: 0xFFF0, by: 16) {
            var halves = SIMD16<UInt16>()
            for lane in 0 ..< 16 { halves[lane] = UInt16(first + lane) }
            check(halves)
            halves[first / 16 % 16] = UInt16(first / 16 % 0x400) | UInt16(first & 0x8000)
            check(halves)
        }
        #expect(mismatches == 0)
    }

    /// Both ways of decoding F16 rows (thirty-two halves a step in sixteen-bit lanes with one branch
    /// for zero and subnormal halves, and a float a lane), and the one `Codecs.dequantize` picked, give
    /// the scalar conversion's bits for every half, in order and scattered, from an even and an odd
    /// address, with a tail shorter than thirty-two.
    @Test(arguments: ["sixteen-bit lanes", "float lanes", "picked"])
    func f16RowsDecodeAsTheScalarConversion(_ way: String) throws {
        // Every half in order, then every half again in a scattered order (an odd multiplier is a
        // bijection modulo 2¹⁶), then a tail of three.
        let halves = (0 ... UInt16.max).map { $0 } + (0 ... UInt16.max).map { $0 &* 40503 } + [0x3C00, 0x0001, 0x7C01]
        for offset in [0, 1] {
            var bytes = [UInt8](repeating: 0, count: offset)
            for h in halves { bytes += [UInt8(truncatingIfNeeded: h), UInt8(h >> 8)] }
            var floats = [Float](repeating: 0, count: halves.count)
            try bytes.withUnsafeBytes { b in
                try floats.withUnsafeMutableBufferPointer { f in
                    let source = UnsafeRawBufferPointer(rebasing: b[offset...])
                    switch way {
                    case "sixteen-bit lanes": F16Codec.dequantizeInSixteenBitLanes(source.baseAddress!, into: f.baseAddress!, blocks: f.count)
                    case "float lanes": F16Codec.dequantizeInFloatLanes(source.baseAddress!, into: f.baseAddress!, blocks: f.count)
                    default: try Codecs.dequantize(.f16, source, into: f)
                    }
                }
            }
            let wrong = zip(halves, floats).filter { halfToFloat($0).bitPattern != $1.bitPattern }.map(\.0)
            #expect(wrong.isEmpty, "offset \(offset): \(wrong.count) halves, first \(wrong.prefix(4))")
        }
    }

    @Test func floatToHalfRoundTripsEveryNonNaNHalf() {
        var mismatches = 0
        for bits in 0...UInt16.max where !Float16(bitPattern: bits).isNaN {
            if floatToHalf(halfToFloat(bits)) != bits { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    /// Swift's `Float16(Float)` is IEEE round-to-nearest-even with overflow to infinity: the same
    /// contract ggml's conversion implements. A strided sweep over all 2³² patterns plus every float
    /// within a few ulps of each half and each half-way point.
    @Test func floatToHalfRoundsToNearestEvenLikeIEEE() {
        var mismatches = 0
        var checked = 0
        func check(_ f: Float) {
            guard !f.isNaN else { return }
            checked += 1
            if floatToHalf(f) != Float16(f).bitPattern { mismatches += 1 }
        }
        var bits: UInt64 = 0
        while bits <= UInt64(UInt32.max) {
            check(Float(bitPattern: UInt32(bits)))
            bits += 1021
        }
        for h in UInt16(0)...0x7BFF {
            let value = Float(Float16(bitPattern: h))
            let next = Float(Float16(bitPattern: h + 1))
            let midpoint = (value + next) / 2 // exact in Float
            for center in [value, midpoint] {
                var f = center
                for _ in 0..<3 { f = f.nextDown }
                for _ in 0..<7 {
                    check(f)
                    check(-f)
                    f = f.nextUp
                }
            }
        }
        #expect(checked > 5_000_000)
        #expect(mismatches == 0)
    }

    @Test func floatToHalfTurnsEveryNaNIntoGGMLsCanonicalNaN() {
        for pattern: UInt32 in [0x7F80_0001, 0x7FC0_0000, 0x7FFF_FFFF, 0x7FA0_1234] {
            #expect(floatToHalf(Float(bitPattern: pattern)) == 0x7E00)
            #expect(floatToHalf(Float(bitPattern: pattern | 0x8000_0000)) == 0xFE00)
        }
    }

    @Test func bf16ToFloatIsTheHighHalf() {
        for bits in stride(from: 0, through: Int(UInt16.max), by: 1) {
            #expect(bf16ToFloat(UInt16(bits)).bitPattern == UInt32(bits) << 16)
        }
    }

    /// Round to nearest, ties to even, computed in `Double` from the two neighbouring bf16 values.
    static func referenceBF16(_ f: Float) -> UInt16 {
        let u = f.bitPattern
        let low = UInt16(u >> 16)
        if u & 0xFFFF == 0 { return low }
        let high = low &+ 1
        let x = Double(f).magnitude
        let lowValue = Double(Float(bitPattern: UInt32(low) << 16)).magnitude
        // The value above the largest finite bf16 is 2¹²⁸ (it rounds to infinity).
        let highBits = UInt32(high & 0x7FFF) << 16
        let highValue = highBits == 0x7F80_0000 ? 0x1p128 : Double(Float(bitPattern: highBits))
        let dLow = x - lowValue, dHigh = highValue - x
        if dLow < dHigh { return low }
        if dHigh < dLow { return high }
        return low & 1 == 0 ? low : high
    }

    @Test func floatToBF16RoundsToNearestEven() {
        var mismatches = 0
        var bits: UInt64 = 0
        while bits <= UInt64(UInt32.max) {
            let f = Float(bitPattern: UInt32(bits))
            if !f.isNaN, floatToBF16(f) != Self.referenceBF16(f) { mismatches += 1 }
            bits += 997
        }
        // Exact ties and their neighbours.
        for top in stride(from: UInt32(0), to: 0x7F80, by: 7) {
            for low: UInt32 in [0x7FFF, 0x8000, 0x8001] {
                for sign: UInt32 in [0, 0x8000_0000] {
                    let f = Float(bitPattern: sign | top << 16 | low)
                    if floatToBF16(f) != Self.referenceBF16(f) { mismatches += 1 }
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func floatToBF16KeepsNaNsQuiet() {
        #expect(floatToBF16(Float(bitPattern: 0x7F80_0001)) == 0x7FC0)
        #expect(floatToBF16(Float(bitPattern: 0xFF81_2345)) == 0xFFC1)
        #expect(floatToBF16(Float(bitPattern: 0x7FFF_FFFF)) == 0x7FFF)
        for pattern: UInt32 in [0x7F80_0001, 0x7FC0_0000, 0xFFBF_FFFF] {
            #expect(bf16ToFloat(floatToBF16(Float(bitPattern: pattern))).isNaN)
        }
    }

    /// ggml's own conversions (compiled from llama.cpp) of the edge-case values.
    @Test(arguments: ["f16", "bf16"])
    func matchesGGMLOnEdgeValues(_ name: String) throws {
        let input = try Fixtures.floats("edge.f32")
        let expectedBytes = try Fixtures.bytes("edge-\(name).bin")
        let expectedFloats = try Fixtures.floats("edge-\(name).dequant.f32")
        let isHalf = name == "f16"
        func convert(_ f: Float) -> UInt16 { isHalf ? floatToHalf(f) : floatToBF16(f) }
        func back(_ h: UInt16) -> Float { isHalf ? halfToFloat(h) : bf16ToFloat(h) }
        for (i, f) in input.enumerated() {
            let expected = UInt16(expectedBytes[2 * i]) | UInt16(expectedBytes[2 * i + 1]) << 8
            #expect(convert(f) == expected, "\(name) of \(f) (0x\(String(f.bitPattern, radix: 16)))")
            #expect(back(expected).bitPattern == expectedFloats[i].bitPattern)
        }
    }

    @Test func nearestIntRoundsHalfToEven() {
        #expect(nearestInt(0.5) == 0)
        #expect(nearestInt(1.5) == 2)
        #expect(nearestInt(2.5) == 2)
        #expect(nearestInt(-0.5) == 0)
        #expect(nearestInt(-1.5) == -2)
        #expect(nearestInt(-2.4999998) == -2)
        #expect(nearestInt(4_194_303) == 4_194_303)
        #expect(nearestInt(-4_194_303) == -4_194_303)
        for i in -1000...1000 {
            let x = Float(i) / 8
            #expect(nearestInt(x) == Int32(x.rounded(.toNearestOrEven)))
        }
    }

    @Test func truncatingConversionsNeverTrap() {
        #expect(truncatingToInt32(.nan) == .min)
        #expect(truncatingToInt32(.infinity) == .min)
        #expect(truncatingToInt32(-.infinity) == .min)
        #expect(truncatingToInt32(3e9) == .min)
        #expect(truncatingToInt32(-7.9) == -7)
        #expect(truncatingToInt8(200.7) == -56) // low byte of 200
        #expect(truncatingToInt8(.nan) == 0)
    }
}
