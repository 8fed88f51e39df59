import Merge
import Testing

/// `model_stock` against mergekit 0.1.5: the fixture config and small cases from mergekit's formula
/// (offsets `dᵢ = wᵢ − w0`, `cos θ` the mean pairwise cosine, `t = N·cos θ/(1 + (N−1)·cos θ)`,
/// `t·avg + (1 − t)·w0`), also checked against mergekit's kernel.
@Suite struct ModelStockTests {
    typealias H = MergeHarness
    let m = ModelStock()

    @Test func fixture() throws {
        // model_stock.yml: a, b, c with base; mergekit appends the base after the listed models.
        #expect(try H.worstError("model_stock", m, inputs: ["a", "b", "c", "base"], base: "base",
                                 perModel: { _ in Array(repeating: H.model(m, [:]), count: 4) },
                                 global: { _ in H.global(m) }) <= 1e-6)
    }

    @Test func twoModels() throws {
        // Base [1, 1], w1 = [2, 1], w2 = [2, 2]: offsets [1, 0], [1, 1], cos θ = 1/√2;
        // t = 2·0.70710678/(1 + 0.70710678) = 0.82842712; avg = [2, 1.5];
        // t·avg + (1 − t)·[1, 1] = [1.82842712, 1.41421356].
        #expect(H.maxDifference(try H.run(m, [[1, 1], [2, 1], [2, 2]], base: 0), [1.82842712, 1.41421356]) <= 1e-6)
    }

    @Test func opposedOffsetsKeepTheBase() throws {
        // Offsets [1, 0] and [−1, 0]: cos θ = −1, 1 + (2 − 1)·(−1) = 0 → singular → t = 0 → the base.
        #expect(try H.run(m, [[5, 5], [6, 5], [4, 5]], base: 0) == [5, 5])
    }

    @Test func filterWise() throws {
        // Base 0, w1 rows [1, 0], [1, 0], w2 rows [1, 1], [0, 1] (ggml shape [2, 2]).
        let inputs: [[Float]] = [[0, 0, 0, 0], [1, 0, 1, 0], [1, 1, 0, 1]]
        // Per row: row 0 as in twoModels (t = 0.82842712, avg [1, 0.5]); row 1 orthogonal → t = 0 → base.
        #expect(H.maxDifference(try H.run(m, inputs, shape: [2, 2], base: 0, global: ["filter_wise": .bool(true)]),
                                [0.82842712, 0.41421356, 0, 0]) <= 1e-6)
        // Whole tensor: ⟨d1, d2⟩ = 1, ‖d1‖ = √2, ‖d2‖ = √3, cos θ = 1/√6 = 0.40824829,
        // t = 0.81649658/1.40824829 = 0.57979590, avg = [1, 0.5, 0.5, 0.5].
        #expect(H.maxDifference(try H.run(m, inputs, shape: [2, 2], base: 0),
                                [0.57979590, 0.28989795, 0.28989795, 0.28989795]) <= 1e-6)
    }

    @Test func needsABaseAndTwoOthers() {
        #expect(throws: MergeError.self) { try H.run(m, [[1, 1], [2, 1]], base: 0) }
        #expect(throws: MergeError.self) { try H.run(m, [[1, 1], [2, 1], [2, 2]], base: nil) }
    }
}
