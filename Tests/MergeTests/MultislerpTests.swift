import Merge
import Testing

/// `multislerp` (no mergekit fixture): small cases derived from mergekit's formula, also checked
/// against mergekit 0.1.5's kernel. With unit vectors `uᵢ = xᵢ/(‖xᵢ‖ + eps)`, `m = Σ wᵢuᵢ`, the tangent
/// `Σ wᵢ(uᵢ − ⟨uᵢ, m̂⟩m̂) = m − ‖m‖m̂` vanishes, so the result is `m̂ · Σ wᵢ‖xᵢ‖` (to float rounding).
@Suite struct MultislerpTests {
    typealias H = MergeHarness
    let m = Multislerp()

    @Test func parametersAreMergekits() {
        #expect(m.parameters.map(\.name) == ["weight", "normalize_weights", "eps"])
        #expect(m.parameters.map(\.defaultValue) == [nil, .bool(true), .number(1e-8)])
        #expect(m.basePolicy == .optional)
    }

    @Test func equalWeightsGiveTheSphericalMidpoint() throws {
        // [1, 0], [0, 1]: m̂ = [1, 1]/√2, Σ wᵢ‖xᵢ‖ = 1.
        #expect(H.maxDifference(try H.run(m, [[1, 0], [0, 1]], perModel: [["weight": 1], ["weight": 1]]),
                                [0.70710678, 0.70710678]) <= 1e-6)
        // Three orthogonal unit vectors: m̂ = [1, 1, 1]/√3.
        #expect(H.maxDifference(try H.run(m, [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                                          perModel: [["weight": 1], ["weight": 1], ["weight": 1]]),
                                [0.57735027, 0.57735027, 0.57735027]) <= 1e-6)
    }

    @Test func weightsAndNorms() throws {
        // [2, 0], [0, 4], weights 1, 3 → 0.25, 0.75: m = [0.25, 0.75], m̂ = [1, 3]/√10,
        // Σ wᵢ‖xᵢ‖ = 0.25·2 + 0.75·4 = 3.5 → [1.10679718, 3.32039154].
        let expected: [Float] = [1.10679718, 3.32039154]
        #expect(H.maxDifference(try H.run(m, [[2, 0], [0, 4]], perModel: [["weight": 1], ["weight": 3]]),
                                expected) <= 1e-6)
        // The same weights given already normalized, with normalize_weights false.
        #expect(H.maxDifference(try H.run(m, [[2, 0], [0, 4]], perModel: [["weight": 0.25], ["weight": 0.75]],
                                          global: ["normalize_weights": .bool(false)]), expected) <= 1e-6)
        // Around base [1, 1]: inputs [3, 1], [1, 5] have the task vectors above; the base is added back.
        #expect(H.maxDifference(try H.run(m, [[3, 1], [1, 5], [1, 1]], base: 2,
                                          perModel: [["weight": 1], ["weight": 3], [:]]),
                                [2.10679718, 4.32039154]) <= 1e-6)
    }

    @Test func antipodalPairFallsBackToLinear() throws {
        // [1, 2] and [−2, −4] have opposite units: m = 0 → 0.5·[1, 2] + 0.5·[−2, −4] = [−0.5, −1].
        #expect(try H.run(m, [[1, 2], [-2, -4]], perModel: [["weight": 1], ["weight": 1]]) == [-0.5, -1])
        // With three inputs there is no fallback: mergekit raises.
        #expect(throws: MergeError.self) {
            try H.run(m, [[1, 0], [-1, 0], [0, 0]], perModel: [["weight": 1], ["weight": 1], ["weight": 1]])
        }
    }

    @Test func singleInputIsReturnedUnchanged() throws {
        // One non-base input: returned as is, even with a base (mergekit does not add the base back).
        #expect(try H.run(m, [[1, 0], [5, 5]], base: 1, perModel: [["weight": 1], [:]]) == [1, 0])
    }
}
