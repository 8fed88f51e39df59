import Testing
@testable import Merge

/// Expected values: mergekit's `arcee_fusion` run with torch on the same inputs
/// (Support/MergekitValues.swift); the inputs are torch [4, 8], ggml rows of 8.
@Suite struct ArceeFusionTests {
    private typealias V = MergekitValues

    @Test func matchesMergekit() throws {
        let merged = try MergeHarness.run(ArceeFusion(), shape: [8, 4], [V.fusionInput0, V.fusionInput1], baseIndex: 1)
        #expect(merged == V.fusion)
    }

    @Test func requiresBase() {
        let error = MergeHarness.error { try MergeHarness.run(ArceeFusion(), shape: [1], [[1], [2]]) }
        #expect(MergeHarness.isInvalid(error, "base"))
    }
}
