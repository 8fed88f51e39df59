@testable import Quant
import Testing

/// The K-quants' private F16 conversions against Swift's own IEEE `Float16` conversions
/// (round to nearest, ties to even), which llama.cpp's `GGML_FP32_TO_FP16` also implements.
@Suite struct KQuantHalfTests {
    @Test("every half converts to the same Float as Float16 does")
    func halfToFloatExhaustive() {
        var mismatches = 0
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = kHalfToFloat(bits)
            if expected.isNaN {
                if !got.isNaN || got.sign != expected.sign { mismatches += 1 }
            } else if got.bitPattern != expected.bitPattern {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test("every half and every midpoint between neighbours round like Float16(Float)")
    func floatToHalfRoundsToNearestEven() {
        var mismatches: [Float] = []
        for bits in 0...UInt16.max {
            let h = Float16(bitPattern: bits)
            guard h.isFinite else { continue }
            let x = Float(h)
            let up = Float(h.nextUp)
            // Exact values, the midpoint to the next half (a tie), and values just around it.
            let mid = (x + up) / 2
            for f in [x, mid, mid.nextDown, mid.nextUp, -mid] where f.isFinite {
                if kFloatToHalf(f) != Float16(f).bitPattern { mismatches.append(f) }
            }
        }
        #expect(mismatches.isEmpty, "first: \(mismatches.prefix(5))")
    }

    @Test("overflow, infinities, NaN and signed zero")
    func specialValues() {
        #expect(kFloatToHalf(65504) == 0x7BFF)
        #expect(kFloatToHalf(65520) == 0x7C00)  // the first value that rounds to infinity
        #expect(kFloatToHalf(1e30) == 0x7C00)
        #expect(kFloatToHalf(-.infinity) == 0xFC00)
        #expect(kFloatToHalf(.nan) == 0x7E00)
        #expect(kFloatToHalf(-Float.nan) == 0xFE00)
        #expect(kFloatToHalf(-0.0) == 0x8000)
        #expect(kFloatToHalf(Float.leastNonzeroMagnitude) == 0)
        #expect(kHalfToFloat(0x7C00) == .infinity)
        #expect(kHalfToFloat(0x0001) == Float(bitPattern: 0x3380_0000))  // 2^-24
    }

    @Test("nearestInt rounds half to even, like rint")
    func nearestIntTiesToEven() {
        for f: Float in [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49999, -7.5, 4_194_303, -4_194_303] {
            #expect(nearestInt(f) == Int(f.rounded(.toNearestOrEven)), "\(f)")
        }
    }
}
