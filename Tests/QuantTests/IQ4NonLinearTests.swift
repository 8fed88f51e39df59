@testable import Quant
import Testing

/// The lane-parallel nearest-level search of the IQ4 scale search against ggml's `best_index_int8`,
/// transcribed as `iq4NearestLevel`, on every boundary the search can meet.
@Suite struct IQ4NonLinearTests {
    /// Each level, each midpoint between neighbours, the floats next to those, values outside the
    /// grid, signed zeros and infinities (not NaN, whose level the scale search never uses).
    static var probes: [Float] {
        var values: [Float] = [0, -0, .infinity, -.infinity, 1e30, -1e30, 200, -200, 0.5, -0.5, 1e-30, -1e-30]
        for i in 0..<16 {
            let level = iq4Levels[i]
            values += [level, level.nextUp, level.nextDown]
            if i < 15 {
                let mid = (level + iq4Levels[i + 1]) / 2
                values += [mid, mid.nextUp, mid.nextDown]
            }
        }
        return values
    }

    @Test("iq4NearestLevelValues picks the level of ggml's best_index_int8", arguments: probes)
    func nearestLevelValueMatchesSearch(x: Float) {
        #expect(iq4NearestLevelValues(SIMD16(repeating: x))[0] == iq4Levels[Int(iq4NearestLevel(x, iq4Levels))])
    }
}
