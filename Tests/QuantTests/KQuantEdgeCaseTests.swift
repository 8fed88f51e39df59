import GGUF
import Quant
import Testing

/// Properties every K-quant codec must have, on inputs generated here. (Exact agreement with
/// llama.cpp on edge cases is checked in `KQuantReferenceTests` with `Fixtures/kquants/edge.*`.)
@Suite struct KQuantEdgeCaseTests {
    static let types = KQuantFixtures.types

    /// Deterministic approximately Gaussian values (SplitMix64, sum of four uniforms).
    static func gaussian(count: Int, seed: UInt64) -> [Float] {
        var state = seed
        func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        return (0..<count).map { _ in Float(((next() + next() + next() + next()) - 2) * 3.0.squareRoot()) }
    }

    @Test("all-zero blocks decode to zeros", arguments: types)
    func zeros(type: GGMLType) throws {
        let out = try dequantize(type, try quantize(type, [Float](repeating: 0, count: 512)), count: 512)
        #expect(out.allSatisfy { $0 == 0 })
    }

    /// Bounds on RMS error / RMS of the input: about twice the error of an ideal uniform quantizer
    /// with the type's levels over the range of a Gaussian group (16 values for Q2_K/Q3_K/Q6_K, 32
    /// for Q4_K/Q5_K), so a correct codec passes with margin and a wrong level or scale does not.
    /// Scales stay where the F16 super-block scales are normal numbers: below about 1e-3 llama.cpp's
    /// own Q5_K/Q6_K lose all precision (their `d` underflows), which the edge fixtures cover.
    static let rmsBound: [GGMLType: Float] = [.q2_K: 0.6, .q3_K: 0.3, .q4_K: 0.15, .q5_K: 0.08, .q6_K: 0.04]

    @Test("round trip error is what the bit width allows, for any sign and offset", arguments: types)
    func roundTripError(type: GGMLType) throws {
        let n = 256 * 64
        let g = Self.gaussian(count: n, seed: 42)
        for (offset, scale) in [(Float(0), Float(1)), (0.0, 0.05), (0.5, 0.3), (-1, 2), (0, 300)] {
            let x = g.map { offset * scale + $0 * scale }
            let y = try dequantize(type, try quantize(type, x), count: n)
            var err: Double = 0
            var power: Double = 0
            for i in 0..<n {
                err += Double(x[i] - y[i]) * Double(x[i] - y[i])
                power += Double(x[i]) * Double(x[i])
            }
            let rel = Float((err / power).squareRoot())
            #expect(rel < Self.rmsBound[type]!, "offset \(offset) scale \(scale): relative RMS error \(rel)")
        }
    }

    /// Every step of the reference algorithms commutes with scaling by 2^k as long as no F16
    /// scale leaves the normal range, so the result must scale bit for bit.
    @Test("scaling the input by a power of two scales the output exactly", arguments: types)
    func powerOfTwoEquivariance(type: GGMLType) throws {
        let x = Self.gaussian(count: 256 * 8, seed: 7)
        let y = try dequantize(type, try quantize(type, x), count: x.count)
        let y8 = try dequantize(type, try quantize(type, x.map { $0 * 8 }), count: x.count)
        #expect(firstBitDifference(y.map { $0 * 8 }, y8) == nil)
    }

    @Test("any bytes decode and any floats encode without trapping", arguments: types)
    func garbageDoesNotTrap(type: GGMLType) throws {
        var state: UInt32 = 12345
        let bytes = (0..<type.typeSize * 64).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let floats = try dequantize(type, bytes, count: 256 * 64)
        // Random bytes are also random floats: NaNs, infinities, subnormals, huge values.
        let raw = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let input = Array((raw + floats + [.nan, .infinity, -.infinity, .greatestFiniteMagnitude]).prefix(256 * 8))
        let encoded = try quantize(type, input)
        #expect(encoded.count == type.typeSize * 8)
    }
}
