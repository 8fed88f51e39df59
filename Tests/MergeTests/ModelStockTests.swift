import Testing
@testable import Merge

@Suite struct ModelStockTests {
    /// Fixtures/merge/model_stock.yml: models a, b, c and base_model `base`, which is not listed in
    /// `models`, so mergekit's planner appends it: inputs [a, b, c, base], base index 3.
    @Test func matchesMergekit() throws {
        let fixture = try FixtureMerge("model_stock", inputs: ["a", "b", "c", "base"])
        let worst = try fixture.maxError(ModelStock(), files: ["a", "b", "c", "base"], baseIndex: 3)
        print("model_stock.yml: max relative L2 error \(worst)")
    }

    /// `filter_wise: true` (one ratio per row); mergekit's result run with torch.
    @Test func filterWiseMatchesMergekit() throws {
        let v = MergekitValues.self
        let merged = try MergeHarness.run(ModelStock(), shape: [4, 3], [v.x0, v.x1, v.x2, v.z0],
                                     parameters: ["filter_wise": .bool(true)], baseIndex: 0)
        #expect(MergeHarness.relativeError(merged, v.stockRows) <= 1e-6)
    }

    @Test func requiresBaseAndTwoModels() {
        let noBase = MergeHarness.error { try MergeHarness.run(ModelStock(), shape: [1], [[1], [2], [3]]) }
        #expect(MergeHarness.isInvalid(noBase, "base"))
        let two = MergeHarness.error { try MergeHarness.run(ModelStock(), shape: [1], [[1], [2]], baseIndex: 0) }
        #expect(MergeHarness.isInvalid(two, "at least 3"))
    }
}
