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
}
