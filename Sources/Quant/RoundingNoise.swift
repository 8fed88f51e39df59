import GGUF

/// The rounding noise a quantized tensor carries, estimated from its stored blocks alone (the
/// original floats are gone): each element was rounded to a grid whose step the block stores, and
/// an error uniform over one step has energy `step² / 12`.
///
/// Steps per type: Q8_0 and the legacy types `d`; K-quants `d · scale` of the element's sub-block
/// (the `min` offset does not change the step); IQ4_NL/IQ4_XS `d` (times the sub-block scale) times
/// the local spacing of the non-linear grid at the stored level; TQ1_0/TQ2_0 `d`; F16 and BF16 one
/// unit in the last place of the stored value; F32 none. How well the uniform model holds per type
/// is measured in `RoundingNoiseTests` against the true error of this project's quantizer.
public enum RoundingNoise {
    /// Whether ``energy(_:_:)`` can estimate `type`.
    public static func canEstimate(_ type: GGMLType) -> Bool {
        switch type {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K,
             .iq4_NL, .iq4_XS, .tq1_0, .tq2_0: true
        default: false
        }
    }

    /// The estimated sum of squared rounding errors over the whole blocks in `bytes` (nil for types
    /// ``canEstimate(_:)`` rejects).
    public static func energy(_ type: GGMLType, _ bytes: UnsafeRawBufferPointer) -> Double? {
        guard canEstimate(type) else { return nil }
        guard let base = bytes.baseAddress else { return 0 }
        switch type {
        case .f16: return floatEnergy(bytes, exponentShift: 10, exponents: 32, bias: 15, mantissaBits: 10) / 12
        case .bf16: return floatEnergy(bytes, exponentShift: 7, exponents: 256, bias: 127, mantissaBits: 7) / 12
        default: break
        }
        let blocks = bytes.count / type.typeSize
        var sum = 0.0
        for i in 0..<blocks {
            sum += blockEnergy(type, base + i &* type.typeSize)
        }
        return sum / 12
    }

    /// Σ step² over one block's elements (F16 and BF16 are counted by `floatEnergy` instead).
    static func blockEnergy(_ type: GGMLType, _ block: UnsafeRawPointer) -> Double {
        let bytes = block.assumingMemoryBound(to: UInt8.self)
        switch type {
        case .f32:
            return 0
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0:
            return squared(block.loadHalf(at: 0)) * 32
        case .q2_K:
            // block_q2_K: scales[16] (low nibble: scale), qs[64], d, dmin; sub-blocks of 16.
            let d = block.loadHalf(at: 80)
            var sum = 0.0
            for j in 0..<16 { sum += squared(Float(bytes[j] & 0xF)) }
            return squared(d) * sum * 16
        case .q3_K:
            // block_q3_K: hmask[32], qs[64], scales[12] (6-bit, signed), d; sub-blocks of 16.
            let d = block.loadHalf(at: 108)
            var sum = 0.0
            for j in 0..<16 { sum += squared(Float(Q3_K.groupScale(j, bytes + 96))) }
            return squared(d) * sum * 16
        case .q4_K, .q5_K:
            // block_q4_K / block_q5_K: d, dmin, scales[12] (6-bit scale and min); sub-blocks of 32.
            let d = block.loadHalf(at: 0)
            var sum = 0.0
            for j in 0..<8 { sum += squared(Float(scaleMinK4(j, bytes + 4).scale)) }
            return squared(d) * sum * 32
        case .q6_K:
            // block_q6_K: ql[128], qh[64], scales[16] (int8), d; sub-blocks of 16.
            let d = block.loadHalf(at: 208)
            var sum = 0.0
            for j in 0..<16 { sum += squared(Float(Int8(bitPattern: bytes[192 &+ j]))) }
            return squared(d) * sum * 16
        case .iq4_NL:
            // block_iq4_nl: d, qs[16] (32 four-bit levels).
            return squared(block.loadHalf(at: 0)) * levelSpacing(bytes + 2, count: 16)
        case .iq4_XS:
            // block_iq4_xs: d, scales_h, scales_l[4], qs[128]; sub-blocks of 32 with 6-bit scales.
            let d = block.loadHalf(at: 0)
            let scalesH = UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            var sum = 0.0
            for g in 0..<8 {
                let low = bytes[4 &+ g &>> 1] &>> (4 &* UInt8(g & 1)) & 0x0F
                let high = UInt8(truncatingIfNeeded: scalesH &>> (2 &* UInt16(g))) & 3
                let scale = Float(Int32(low | high &<< 4) &- 32)
                sum += squared(d * scale) * levelSpacing(bytes + (8 &+ 16 &* g), count: 16)
            }
            return sum
        case .tq1_0:
            return squared(block.loadHalf(at: 52)) * 256
        case .tq2_0:
            return squared(block.loadHalf(at: 64)) * 256
        default:
            return 0
        }
    }

    /// Σ ulp² over 16-bit floats (F16, BF16): a count per exponent, then one product per exponent.
    /// Four interleaved sets of counts, so consecutive elements of one exponent (the usual case) do
    /// not wait on each other's increment.
    static func floatEnergy(_ bytes: UnsafeRawBufferPointer, exponentShift: Int, exponents: Int, bias: Int, mantissaBits: Int) -> Double {
        let count = bytes.count / 2
        var counts = [Int](repeating: 0, count: 4 * exponents)
        counts.withUnsafeMutableBufferPointer { counts in
            for i in 0 ..< count {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))
                let exponent = Int(bits &>> UInt16(exponentShift)) & (exponents &- 1)
                counts[(i & 3) &* exponents &+ exponent] &+= 1
            }
        }
        var sum = 0.0
        for exponent in 0 ..< exponents {
            let n = counts[exponent] + counts[exponents + exponent] + counts[2 * exponents + exponent] + counts[3 * exponents + exponent]
            if n > 0 { sum += Double(n) * squaredULP(exponent: exponent, bias: bias, mantissaBits: mantissaBits) }
        }
        return sum
    }

    /// Σ spacing² of the IQ4 grid at the levels stored in `count` bytes (two levels a byte): the
    /// spacing at a level is the mean distance to its neighbours (one-sided at the ends).
    static func levelSpacing(_ qs: UnsafePointer<UInt8>, count: Int) -> Double {
        var sum = 0.0
        for j in 0..<count {
            sum += iq4SquaredSpacing[Int(qs[j] & 0x0F)] + iq4SquaredSpacing[Int(qs[j] &>> 4)]
        }
        return sum
    }

    static let iq4SquaredSpacing: [Double] = (0..<16).map { i in
        let low = i == 0 ? iq4Levels[1] - iq4Levels[0] : iq4Levels[i] - iq4Levels[i - 1]
        let high = i == 15 ? iq4Levels[15] - iq4Levels[14] : iq4Levels[i + 1] - iq4Levels[i]
        return squared((low + high) / 2)
    }

    /// The square of one unit in the last place of a float with this biased exponent.
    static func squaredULP(exponent: Int, bias: Int, mantissaBits: Int) -> Double {
        let e = max(exponent, 1) - bias - mantissaBits
        let ulp = Double(sign: .plus, exponent: e, significand: 1)
        return ulp * ulp
    }

    @inline(__always) static func squared(_ x: Float) -> Double { Double(x) * Double(x) }
}
