import Testing
@testable import Merge

@Suite struct LinearTests {
    /// Fixtures/merge/linear.yml: a (weight 0.7), b (weight 0.3), `normalize` left at its default (true).
    @Test func matchesMergekitNormalized() throws {
        let fixture = try FixtureMerge("linear", inputs: ["a", "b"])
        let worst = try fixture.maxError(Linear(), files: ["a", "b"],
                                         modelParameters: [Parameters(["weight": .number(0.7)]), Parameters(["weight": .number(0.3)])])
        print("linear.yml: max relative L2 error \(worst)")
    }

    /// Fixtures/merge/linear-nonorm.yml: weights 0.7 and 0.6, `normalize: false`.
    @Test func matchesMergekitUnnormalized() throws {
        let fixture = try FixtureMerge("linear-nonorm", inputs: ["a", "b"])
        let worst = try fixture.maxError(Linear(), files: ["a", "b"],
                                         modelParameters: [Parameters(["weight": .number(0.7)]), Parameters(["weight": .number(0.6)])],
                                         parameters: { _ in ["normalize": .bool(false)] })
        print("linear-nonorm.yml: max relative L2 error \(worst)")
    }

    @Test func specMatchesMergekit() {
        let method = Linear()
        #expect(method.name == "linear")
        #expect(method.basePolicy == .ignored)
        #expect(method.parameters == [ParameterSpec("weight", .number, .perModel, default: nil),
                                      ParameterSpec("normalize", .bool, .global, default: .bool(true))])
        #expect(MergeMethods.named("linear") is Linear)
    }

    @Test func rejectsMissingWeightAndZeroSum() {
        let missing = MergeHarness.error { try MergeHarness.run(Linear(), shape: [2], [[1, 2], [3, 4]], weights: [1, nil]) }
        #expect(MergeHarness.isInvalid(missing, "weight"))
        let zero = MergeHarness.error { try MergeHarness.run(Linear(), shape: [2], [[1, 2], [3, 4]], weights: [1, -1]) }
        #expect(MergeHarness.isInvalid(zero, "sum"))
    }
}
