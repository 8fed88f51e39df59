import Merge
import Testing

/// `nuslerp` against mergekit 0.1.5: the fixture config and small cases from mergekit's formula
/// (`t = w₁/(w₀ + w₁)`, per vector `θ = acos⟨v0/‖v0‖, v1/‖v1‖⟩`,
/// `(sin((1−t)θ)·v0 + sin(tθ)·v1)/sin θ`, lerp when colinear), also checked against mergekit's kernel.
@Suite struct NuslerpTests {
    typealias H = MergeHarness
    let m = Nuslerp()

    @Test func fixture() throws {
        // nuslerp.yml: a weight 0.4, b weight 0.6, no base (flatten defaults to true).
        #expect(try H.worstError("nuslerp", m, inputs: ["a", "b"], base: nil,
                                 perModel: { _ in [H.model(m, ["weight": 0.4]), H.model(m, ["weight": 0.6])] },
                                 global: { _ in H.global(m) }) <= 1e-6)
    }

    @Test func parametersAreMergekits() {
        #expect(m.parameters.map(\.name) == ["weight", "nuslerp_row_wise", "nuslerp_flatten"])
        #expect(m.parameters.map(\.defaultValue) == [nil, .bool(false), .bool(true)])
    }

    @Test func weightsGiveT() throws {
        // Weights 1, 3: t = 0.75; v0 = [1, 0] ⟂ v1 = [0, 2]: θ = π/2,
        // result = sin(π/8)·v0 + sin(3π/8)·v1 = [0.38268343, 1.84775907].
        #expect(H.maxDifference(try H.run(m, [[1, 0], [0, 2]], perModel: [["weight": 1], ["weight": 3]]),
                                [0.38268343, 1.84775907]) <= 1e-6)
        // Weights summing to 0: t = 0.5 → sin(π/4)·(v0 + v1) = [0.70710678, 1.41421356].
        #expect(H.maxDifference(try H.run(m, [[1, 0], [0, 2]], perModel: [["weight": 1], ["weight": -1]]),
                                [0.70710678, 1.41421356]) <= 1e-6)
    }

    @Test func baseIsSubtractedAndAddedBack() throws {
        // base [1, 1]; v0 = [2, 1], v1 = [1, 3] → task vectors [1, 0], [0, 2] as above, plus the base.
        #expect(H.maxDifference(try H.run(m, [[2, 1], [1, 3], [1, 1]], base: 2,
                                          perModel: [["weight": 1], ["weight": 3], [:]]),
                                [1.38268343, 2.84775907]) <= 1e-6)
    }

    /// v0 = [[1, 0], [1, 0]], v1 = [[0, 1], [1, 0]] (mergekit's rows; ggml shape [2, 2]), t = 0.5.
    @Test func flattenRowsAndColumns() throws {
        let v0: [Float] = [1, 0, 1, 0], v1: [Float] = [0, 1, 1, 0]
        let weights: [[String: Double]] = [["weight": 1], ["weight": 1]]
        // Flattened: cos θ = 1/(√2·√2) = 0.5, θ = π/3, both coefficients sin(π/6)/sin(π/3) = 0.57735027.
        #expect(H.maxDifference(try H.run(m, [v0, v1], shape: [2, 2], perModel: weights),
                                [0.57735027, 0.57735027, 1.15470054, 0]) <= 1e-6)
        // Per row: row 0 orthogonal → sin(π/4)·([1, 0] + [0, 1]); row 1 identical → colinear → [1, 0].
        #expect(H.maxDifference(try H.run(m, [v0, v1], shape: [2, 2], perModel: weights,
                                          global: ["nuslerp_flatten": .bool(false)]),
                                [0.70710678, 0.70710678, 1, 0]) <= 1e-6)
        // nuslerp_row_wise (mergekit's dim 0: columns): column 0 is [1, 1] vs [0, 1], θ = π/4,
        // (sin(π/8)·[1, 1] + sin(π/8)·[0, 1])/sin(π/4) = [0.54119610, 1.08239220]; column 1 is [0, 0] vs
        // [1, 0]: the zero vector's norm clamps to 1e-7, cos θ = 0, θ = π/2 → sin(π/4)·[1, 0].
        #expect(H.maxDifference(try H.run(m, [v0, v1], shape: [2, 2], perModel: weights,
                                          global: ["nuslerp_flatten": .bool(false), "nuslerp_row_wise": .bool(true)]),
                                [0.54119610, 0.70710678, 1.08239220, 0]) <= 1e-6)
    }

    @Test func needsExactlyTwoNonBaseInputs() {
        #expect(throws: MergeError.self) { try H.run(m, [[1, 0]], perModel: [["weight": 1]]) }
        #expect(throws: MergeError.self) {
            try H.run(m, [[1, 0], [0, 1], [1, 1]], perModel: [["weight": 1], ["weight": 1], ["weight": 1]])
        }
    }
}
