import Merge
import Testing

/// `nearswap` (no mergekit fixture): mergekit's elementwise formula
/// `w = clamp(t / max(|a − b|, 1e-6), 0, 1)`, `w·b + (1 − w)·a`, on hand-picked values (also checked
/// against mergekit 0.1.5's kernel).
@Suite struct NearswapTests {
    typealias H = MergeHarness
    let m = Nearswap()

    @Test func formula() throws {
        // Base a = [0, 0, 0, 1], b = [0.5, 0.05, −2, 1], t = 0.1:
        // |a − b| = 0.5 → w = 0.2 → 0.1; 0.05 → w = 2 → 1 → b = 0.05; 2 → w = 0.05 → −0.1;
        // 0 → clamped to 1e-6 → w = 1e5 → 1 → b = 1.
        #expect(H.maxDifference(try H.run(m, [[0, 0, 0, 1], [0.5, 0.05, -2, 1]], base: 0, global: ["t": .number(0.1)]),
                                [0.1, 0.05, -0.1, 1]) <= 1e-7)
        // The base may come second.
        #expect(H.maxDifference(try H.run(m, [[0.5, 0.05, -2, 1], [0, 0, 0, 1]], base: 1, global: ["t": .number(0.1)]),
                                [0.1, 0.05, -0.1, 1]) <= 1e-7)
    }

    @Test func tZeroIsTheBase() throws {
        #expect(try H.run(m, [[0, 0, 0, 1], [0.5, 0.05, -2, 1]], base: 0, global: ["t": .number(0)]) == [0, 0, 0, 1])
    }

    @Test func needsABase() {
        #expect(throws: MergeError.self) { try H.run(m, [[0], [1]], global: ["t": .number(0.1)]) }
    }
}
