import Merge
import Testing

/// `arcee_fusion` (no mergekit fixture): a hand-worked case of mergekit's formula, also checked
/// against mergekit 0.1.5's kernel.
@Suite struct ArceeFusionTests {
    typealias H = MergeHarness
    let m = ArceeFusion()

    /// Base 0.1 everywhere, p = rows [1, −1], [0, 2], [0.5, 0] (ggml shape [2, 3]).
    /// Q = softmax(0.1, 0.1) = [0.5, 0.5]. Per-row kl = Σ P·log(P/Q):
    /// - rows 0 and 1: P = [0.88079708, 0.11920292] (or swapped), kl = 0.32784;
    /// - row 2: P = [0.62245933, 0.37754067], kl = 0.030302.
    /// Importance |p − b|·kl: row 0 [0.9, 1.1]·0.32784 = [0.29506, 0.36063], row 1 [0.1, 1.9]·0.32784 =
    /// [0.032784, 0.62290], row 2 [0.4, 0.1]·0.030302 = [0.012121, 0.0030302].
    /// Sorted (6 values), quartile indices ⌊0.25·5⌋ = 1, ⌊0.5·5⌋ = 2, ⌊0.75·5⌋ = 3: q1 = 0.012121,
    /// median = 0.032784, q3 = 0.29506; threshold = 0.032784 + 1.5·(0.29506 − 0.012121) = 0.45719.
    /// Only 0.62290 (row 1, column 1) passes: the result is the base with p's 2 there.
    @Test func handWorkedCase() throws {
        let base = [Float](repeating: 0.1, count: 6)
        let p: [Float] = [1, -1, 0, 2, 0.5, 0]
        #expect(H.maxDifference(try H.run(m, [base, p], shape: [2, 3], base: 0), [0.1, 0.1, 0.1, 2, 0.1, 0.1]) <= 1e-7)
        // Same with the base second.
        #expect(H.maxDifference(try H.run(m, [p, base], shape: [2, 3], base: 1), [0.1, 0.1, 0.1, 2, 0.1, 0.1]) <= 1e-7)
    }

    @Test func identicalDistributionsKeepEverything() throws {
        // p = base + 1 on every row: softmax is shift-invariant, so kl = 0, every importance is 0, the
        // threshold is 0 and every element passes (0 ≥ 0): the result is p.
        #expect(H.maxDifference(try H.run(m, [[0, 1, 2, 3], [1, 2, 3, 4]], shape: [2, 2], base: 0), [1, 2, 3, 4]) <= 1e-7)
    }

    @Test func needsABaseAndOneOther() {
        #expect(throws: MergeError.self) { try H.run(m, [[0, 1], [1, 2]]) }
        #expect(throws: MergeError.self) { try H.run(m, [[0, 1], [1, 2], [2, 3]], base: 0) }
    }
}
