import Testing
@testable import Merge

@Suite struct NuSLERPTests {
    private typealias V = MergekitValues

    /// Fixtures/merge/nuslerp.yml: a (weight 0.4), b (weight 0.6), no base: t = 0.6, flattened.
    @Test func matchesMergekit() throws {
        let fixture = try FixtureMerge("nuslerp", inputs: ["a", "b"])
        let worst = try fixture.maxError(NuSLERP(), files: ["a", "b"],
                                         modelParameters: [Parameters(["weight": .number(0.4)]), Parameters(["weight": .number(0.6)])])
        print("nuslerp.yml: max relative L2 error \(worst)")
    }

    /// With a base (listed last, as mergekit's planner appends it), and per row / per column; expected
    /// values are mergekit's `nuslerp` run with torch (Support/MergekitValues.swift).
    @Test(arguments: [
        ("base", [V.y0, V.y1, V.y2], [0.4, 0.6], [String: ParameterValue](), V.nuBase),
        ("rows", [V.x0, V.x1, V.x2], [0.3, 0.5], ["nuslerp_flatten": .bool(false)], V.nuRows),
        ("columns", [V.x0, V.x1, V.x2], [0.3, 0.5], ["nuslerp_flatten": .bool(false), "nuslerp_row_wise": .bool(true)], V.nuColumns),
    ])
    func matchesMergekitOptions(label: String, inputs: [[Float]], weights: [Double],
                                parameters: [String: ParameterValue], expected: [Float]) throws {
        let merged = try MergeHarness.run(NuSLERP(), shape: [4, 3], inputs, weights: weights + [nil],
                                     parameters: parameters, baseIndex: 2)
        let error = MergeHarness.relativeError(merged, expected)
        #expect(error <= 1e-6, "\(label): relative error \(error)")
    }

    @Test func rejectsWrongModelCount() {
        let three = MergeHarness.error { try MergeHarness.run(NuSLERP(), shape: [1], [[1], [2], [3]], weights: [1, 1, 1]) }
        #expect(MergeHarness.isInvalid(three, "exactly 2 non-base"))
        let one = MergeHarness.error { try MergeHarness.run(NuSLERP(), shape: [1], [[1], [2]], weights: [1, nil], baseIndex: 1) }
        #expect(MergeHarness.isInvalid(one, "exactly 2 non-base"))
    }
}
