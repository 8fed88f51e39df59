import Merge
import Testing

/// `slerp` against mergekit 0.1.5: the fixture configs and small cases from mergekit's formula
/// (`θ = acos⟨a/‖a‖, b/‖b‖⟩`, `sin((1−t)θ)/sin θ·a + sin(tθ)/sin θ·b`, lerp when |cos θ| > 0.9995),
/// whose values were also checked against mergekit's kernel.
@Suite struct SlerpTests {
    typealias H = MergeHarness
    let m = Slerp()

    @Test func fixtures() throws {
        // slerp.yml: base a, other b, t 0.3.
        #expect(try H.worstError("slerp", m, inputs: ["a", "b"], base: "a",
                                 perModel: { _ in [H.model(m, [:]), H.model(m, [:])] },
                                 global: { _ in H.global(m, ["t": .number(0.3)]) }) <= 1e-6)
        // slerp-gradient.yml: t = [0, 0.5, 1] over the layers on self_attn, [1, 0.5, 0] on mlp, else 0.5.
        func t(_ name: String) -> Double {
            if H.isSelfAttention(name) { return H.gradient([0, 0.5, 1], tensor: name) }
            if H.isMLP(name) { return H.gradient([1, 0.5, 0], tensor: name) }
            return 0.5
        }
        #expect(try H.worstError("slerp-gradient", m, inputs: ["a", "b"], base: "a",
                                 perModel: { _ in [H.model(m, [:]), H.model(m, [:])] },
                                 global: { H.global(m, ["t": .number(t($0))]) }) <= 1e-6)
    }

    @Test func endpointsAreExact() throws {
        let a = H.models["a"]!["blk.1.attn_k.weight"]!.values, b = H.models["b"]!["blk.1.attn_k.weight"]!.values
        #expect(try H.run(m, [a, b], base: 0, global: ["t": .number(0)]) == a)
        #expect(try H.run(m, [a, b], base: 0, global: ["t": .number(1)]) == b)
        // The base may come second: t = 0 is still the base.
        #expect(try H.run(m, [b, a], base: 1, global: ["t": .number(0)]) == a)
    }

    @Test func colinearAndAntipodalFallBackToLerp() throws {
        // b = 2a: cos θ = 1 → 0.75·[1, 2, 3] + 0.25·[2, 4, 6] = [1.25, 2.5, 3.75].
        #expect(try H.run(m, [[1, 2, 3], [2, 4, 6]], base: 0, global: ["t": .number(0.25)]) == [1.25, 2.5, 3.75])
        // b = −a: cos θ = −1 → 0.5·a + 0.5·(−a) = 0.
        #expect(try H.run(m, [[1, 2, 3], [-1, -2, -3]], base: 0, global: ["t": .number(0.5)]) == [0, 0, 0])
    }

    @Test func orthogonalInputs() throws {
        // a = [1, 0], b = [0, 1], t = 0.5: θ = π/2, both coefficients sin(π/4) = 0.70710678.
        #expect(H.maxDifference(try H.run(m, [[1, 0], [0, 1]], base: 0, global: ["t": .number(0.5)]),
                                [0.70710678, 0.70710678]) <= 1e-7)
        // a = [2, 0], b = [0, 3], t = 1/3: θ = π/2, coef_a = sin(π/3) = 0.8660254, coef_b = sin(π/6) = 0.5:
        // [1.7320508, 1.5] (the magnitudes are interpolated too: the geometry uses normalized copies).
        #expect(H.maxDifference(try H.run(m, [[2, 0], [0, 3]], base: 0, global: ["t": .number(1.0 / 3)]),
                                [1.7320508, 1.5]) <= 1e-6)
    }

    @Test func needsABaseAndOneOtherInput() {
        #expect(throws: MergeError.self) { try H.run(m, [[1, 0], [0, 1]], base: nil, global: ["t": .number(0.5)]) }
        #expect(throws: MergeError.self) {
            try H.run(m, [[1, 0], [0, 1], [1, 1]], base: 0, global: ["t": .number(0.5)])
        }
    }
}
