@testable import Quant
import Testing

/// The lane-parallel nearest-level search against ggml's `best_index_int8`, transcribed as
/// `iq4NearestLevel`, on every boundary the search can meet.
@Suite struct IQ4NonLinearTests {
    /// Each level, each midpoint between neighbours, the floats next to those, values outside the
    /// grid, signed zeros, infinities and NaN.
    static var probes: [Float] {
        var values: [Float] = [0, -0, .infinity, -.infinity, .nan, 1e30, -1e30, 200, -200, 0.5, -0.5]
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

    @Test("iq4NearestLevels picks ggml's index and level in every lane")
    func nearestLevelsMatchScalarSearch() {
        let probes = Self.probes
        for start in stride(from: 0, to: probes.count, by: 16) {
            var x = SIMD16<Float>(repeating: 0)
            for lane in 0..<16 { x[lane] = probes[(start + lane) % probes.count] }
            let (index, level) = iq4NearestLevels(x)
            for lane in 0..<16 {
                let expected = iq4NearestLevel(x[lane], iq4Levels)
                #expect(index[lane] == Int32(expected), "x = \(x[lane])")
                #expect(level[lane] == iq4Levels[Int(expected)], "x = \(x[lane])")
            }
        }
    }
}
