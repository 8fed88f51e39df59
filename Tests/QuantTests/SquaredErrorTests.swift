import GGUF
import Testing
@testable import Quant

/// `Codecs.squaredError`: the requantization error the merge report prints, from the encoded bytes
/// and the floats they were encoded from, against the same sums taken in `Double` over the decoded
/// values (`Codecs.dequantize`, itself checked against llama.cpp).
@Suite struct SquaredErrorTests {
    /// Rows of llama.cpp's tiny model (`source.f32`), and a length that is no multiple of 32 for the
    /// one-element "blocks" of F16 and BF16 (the loops' tails).
    static func samples(_ type: GGMLType) throws -> [[Float]] {
        let source = try Fixtures.floats("source.f32")
        var samples = [Array(source[0 ..< 2048]), Array(source[4096 ..< 4096 + 256])]
        if type.blockSize == 1 { samples.append(Array(source[100 ..< 100 + 1001])) }
        return samples
    }

    static func expected(decoded: [Float], reference: [Float]) -> (error: Double, signal: Double) {
        var error = 0.0, signal = 0.0
        for (d, r) in zip(decoded, reference) {
            error += (Double(d) - Double(r)) * (Double(d) - Double(r))
            signal += Double(r) * Double(r)
        }
        return (error, signal)
    }

    /// F16, BF16 and Q8_0 compare as they decode; Q4_K and Q6_K decode into the scratch first.
    @Test(arguments: [GGMLType.f16, .bf16, .q8_0, .q4_0, .q4_K, .q6_K])
    func matchesTheSumsOverTheDecodedValues(_ type: GGMLType) throws {
        for reference in try Self.samples(type) {
            let encoded = try LegacyCodecTests.quantize(type, reference[...])
            let decoded = try LegacyCodecTests.dequantize(type, encoded[...], count: reference.count)
            let want = Self.expected(decoded: decoded, reference: reference)
            var scratch = [Float](repeating: .nan, count: reference.count)
            let got = try encoded.withUnsafeBytes { bytes in
                try reference.withUnsafeBufferPointer { floats in
                    try scratch.withUnsafeMutableBufferPointer { scratch in
                        try Codecs.squaredError(type, bytes, against: floats, scratch: scratch)
                    }
                }
            }
            #expect(want.error > 0, "\(type): the sample must have a rounding error to measure")
            #expect(abs(got.error - want.error) <= 1e-5 * want.error, "\(type) \(reference.count): \(got.error) vs \(want.error)")
            #expect(abs(got.signal - want.signal) <= 1e-5 * want.signal, "\(type) \(reference.count): \(got.signal) vs \(want.signal)")
        }
    }

    @Test func fusedLoopsAreTheOnesThatSkipTheScratch() {
        #expect(Codecs.decoder(for: .f16)!.squaredError(UnsafeRawPointer(bitPattern: 16)!, reference: UnsafePointer(bitPattern: 16)!, blocks: 0) != nil)
        #expect(Codecs.decoder(for: .q8_0)!.squaredError(UnsafeRawPointer(bitPattern: 16)!, reference: UnsafePointer(bitPattern: 16)!, blocks: 0) != nil)
        #expect(Codecs.decoder(for: .q4_K)!.squaredError(UnsafeRawPointer(bitPattern: 16)!, reference: UnsafePointer(bitPattern: 16)!, blocks: 0) == nil)
    }

    @Test func rejectsMismatchedSizes() {
        let bytes = [UInt8](repeating: 0, count: 34), floats = [Float](repeating: 0, count: 31)
        var scratch = [Float](repeating: 0, count: 32)
        #expect(throws: QuantError.sizeMismatch(.q8_0, elements: 31, bytes: 34)) {
            try bytes.withUnsafeBytes { b in
                try floats.withUnsafeBufferPointer { f in
                    try scratch.withUnsafeMutableBufferPointer { s in _ = try Codecs.squaredError(.q8_0, b, against: f, scratch: s) }
                }
            }
        }
    }

    /// The vector conversion the F16 loop uses is the scalar one (checked against ggml) on every
    /// half, NaNs included, bit for bit.
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
}

