import Merge
import Testing

/// The radix top-k selection against the obvious oracle: a full sort by (|x| descending, index).
@Suite struct MagnitudeSelectionTests {
    /// Random data of a few kinds: distinct normals, heavy ties (few distinct values, many zeros),
    /// mixed signs of equal magnitude, and extreme magnitudes (denormals, infinities).
    static func data(kind: Int, count: Int, seed: UInt64) -> [Float] {
        let stream = RandomStream(seed: seed, stream: kind)
        return (0 ..< count).map { i -> Float in
            let u = stream.uniform(at: 2 * i), v = stream.uniform(at: 2 * i + 1)
            switch kind {
            case 0: return (u - 0.5) * Float(1 + 1000 * v)
            case 1: return u < 0.6 ? 0 : Float(Int(v * 5) - 2) * 0.25
            case 2: return (v < 0.5 ? -1 : 1) * Float(Int(u * 50)) * 1e-3
            default:
                let choices: [Float] = [.infinity, -.infinity, .leastNonzeroMagnitude, -Float.leastNormalMagnitude,
                                        .greatestFiniteMagnitude, 0, -0.0]
                return v < 0.3 ? choices[Int(u * 7) % 7] : (u - 0.5) * 1e-30
            }
        }
    }

    /// Indices by descending rank: |x| descending, ties by index.
    static func order(_ x: [Float]) -> [Int] {
        x.indices.sorted { i, j in
            let a = MagnitudeSelection.key(x[i]), b = MagnitudeSelection.key(x[j])
            return a != b ? a > b : i < j
        }
    }

    @Test(arguments: 0 ..< 4)
    func selectMatchesSort(kind: Int) {
        for (count, seed) in [(1, 1), (7, 2), (1000, 3), (20000, 4)] as [(Int, UInt64)] {
            let x = Self.data(kind: kind, count: count, seed: seed)
            let sorted = Self.order(x)
            let ranks = Set([0, count - 1, count / 2, count / 3, count / 10, (count * 9) / 10])
            x.withUnsafeBufferPointer { buffer in
                for rank in ranks {
                    let stat = MagnitudeSelection.select(buffer, descendingRank: rank)
                    let key = MagnitudeSelection.key(x[sorted[rank]])
                    let keys = x.map(MagnitudeSelection.key)
                    #expect(stat.key == key, "kind \(kind) n \(count) rank \(rank)")
                    #expect(stat.countAbove == keys.filter { $0 > key }.count)
                    #expect(stat.countEqual == keys.filter { $0 == key }.count)
                }
            }
        }
    }

    @Test(arguments: 0 ..< 4)
    func keepRanksMatchesSort(kind: Int) {
        let count = 5000
        let x = Self.data(kind: kind, count: count, seed: 99)
        let sorted = Self.order(x)
        let ranges: [Range<Int>] = [0 ..< 1, 0 ..< 2500, 0 ..< count, 100 ..< 4000, 4999 ..< 5000, 7 ..< 7,
                                    1234 ..< 1235, 3000 ..< 5000]
        for range in ranges {
            var got = x
            got.withUnsafeMutableBufferPointer { MagnitudeSelection.keepDescendingRanks($0, range) }
            let kept = Set(sorted[range])
            for i in 0 ..< count {
                let want: Float = kept.contains(i) ? x[i] : 0
                // Dropped zeros may keep their sign: compare values, not bits.
                if !(got[i] == want || (got[i].isNaN && want.isNaN)) {
                    Issue.record("kind \(kind) range \(range) index \(i): got \(got[i]), want \(want)")
                    return
                }
            }
        }
    }

    /// mergekit's `magnitude` keeps `max(1, int(density·n))` elements.
    @Test func magnitudeCount() {
        let x = Self.data(kind: 0, count: 1001, seed: 5)
        for (density, expected) in [(0.5, 500), (0.0001, 1), (0.999, 999), (0.3, 300)] {
            var y = x
            _ = y.withUnsafeMutableBufferPointer { Sparsify.magnitude($0, density: density, rescale: false) }
            #expect(y.filter { $0 != 0 }.count == expected, "density \(density)")
        }
    }

    /// mergekit's `magnitude_outliers` against its definition on the ascending sort (distinct values).
    @Test func outliersMatchAscendingSlice() {
        let n = 3000
        let x = Self.data(kind: 0, count: n, seed: 6)
        let ascending = Array(Self.order(x).reversed())
        for (density, gamma) in [(0.8, 0.05), (0.5, 0.01), (0.9, 0.2), (0.3, 0), (0.1, 0.95)] {
            let target = Int(density * Double(n)), top = Int(gamma * Double(n))
            let bottom = max(0, n - target - top)
            let kept = Set(ascending[bottom ..< min(n, bottom + target)])
            var y = x
            _ = y.withUnsafeMutableBufferPointer {
                Sparsify.magnitudeOutliers($0, density: density, gamma: gamma, rescale: false)
            }
            let wrong = (0 ..< n).filter { (y[$0] != 0) != kept.contains($0) }
            #expect(wrong.isEmpty, "density \(density) gamma \(gamma): \(wrong.count) wrong")
        }
    }

    /// The L1 rescale keeps Σ|x| (mergekit's `rescaled_masked_tensor` with `RescaleNorm.l1`).
    @Test func rescaleKeepsL1Norm() {
        var x = Self.data(kind: 0, count: 4096, seed: 7)
        let before = x.reduce(0.0) { $0 + Double(abs($1)) }
        let scale = x.withUnsafeMutableBufferPointer { Sparsify.magnitude($0, density: 0.25, rescale: true) }
        let after = x.reduce(0.0) { $0 + Double(abs($1 * scale)) }
        #expect(abs(after - before) <= 1e-6 * before)
        #expect(scale > 1)
    }
}
