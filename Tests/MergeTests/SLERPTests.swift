import Testing
@testable import Merge

@Suite struct SLERPTests {
    /// Fixtures/merge/slerp.yml: models a, b; base a (first input); t = 0.3.
    @Test func matchesMergekit() throws {
        let fixture = try FixtureMerge("slerp", inputs: ["a", "b"])
        let worst = try fixture.maxError(SLERP(), files: ["a", "b"], baseIndex: 0,
                                         parameters: { _ in ["t": .number(0.3)] })
        print("slerp.yml: max relative L2 error \(worst)")
    }

    /// The `t` mergekit resolves for slerp-gradient.yml. Layer j of 3 gets the value at j/(3−1) along a
    /// gradient list (linearly interpolated; here exactly the list items). `self_attn` matches the HF
    /// name of attn_k, `mlp` that of ffn_down; the norms match neither filter and take the fallback
    /// 0.5. Non-layer tensors are planned with t = 0 (a list's first value), but output_norm
    /// (`model.norm.weight`) matches no filter either, so it also gets 0.5.
    static func gradientT(_ name: String) -> Double {
        guard let layer = MergeHarness.layer(of: name) else { return 0.5 }
        if name.contains("attn_k") { return [0, 0.5, 1][layer] }
        if name.contains("ffn_down") { return [1, 0.5, 0][layer] }
        return 0.5
    }

    /// Fixtures/merge/slerp-gradient.yml: slices of a and b, base a, filtered gradients of t.
    @Test func matchesMergekitGradient() throws {
        let fixture = try FixtureMerge("slerp-gradient", inputs: ["a", "b"])
        let worst = try fixture.maxError(SLERP(), files: ["a", "b"], baseIndex: 0,
                                         parameters: { ["t": .number(Self.gradientT($0))] })
        print("slerp-gradient.yml: max relative L2 error \(worst)")
    }

    /// t = 0 gives the base model exactly, t = 1 the other model, whichever input is the base.
    @Test(arguments: [0, 1])
    func endpointsAreTheInputs(baseIndex: Int) throws {
        let x = MergekitValues.x0, y = MergekitValues.x1
        let inputs = baseIndex == 0 ? [x, y] : [y, x]
        #expect(try MergeHarness.run(SLERP(), shape: [4, 3], inputs, parameters: ["t": .number(0)], baseIndex: baseIndex) == x)
        #expect(try MergeHarness.run(SLERP(), shape: [4, 3], inputs, parameters: ["t": .number(1)], baseIndex: baseIndex) == y)
    }

    /// Colinear inputs (cos θ = 1 > 0.9995) use linear interpolation (mergekit's result via torch).
    @Test func colinearFallsBackToLerp() throws {
        let merged = try MergeHarness.run(SLERP(), shape: [4, 3], [MergekitValues.x0, MergekitValues.slerpColinearInput1],
                                     parameters: ["t": .number(0.25)], baseIndex: 0)
        #expect(MergeHarness.relativeError(merged, MergekitValues.slerpColinear) <= 1e-6)
    }

    @Test func rejectsWrongInputs() {
        let noBase = MergeHarness.error { try MergeHarness.run(SLERP(), shape: [2], [[1, 2], [3, 4]], parameters: ["t": .number(0.5)]) }
        #expect(MergeHarness.isInvalid(noBase, "base"))
        let three = MergeHarness.error {
            try MergeHarness.run(SLERP(), shape: [2], [[1, 2], [3, 4], [5, 6]], parameters: ["t": .number(0.5)], baseIndex: 0)
        }
        #expect(MergeHarness.isInvalid(three, "exactly 2"))
        let noT = MergeHarness.error { try MergeHarness.run(SLERP(), shape: [2], [[1, 2], [3, 4]], baseIndex: 0) }
        #expect(MergeHarness.isInvalid(noT, "`t`"))
    }
}
