import Testing
@testable import Merge

/// Expected values: mergekit's `nearswap` run with torch on the same inputs (Support/MergekitValues.swift).
@Suite struct NearSwapTests {
    private typealias V = MergekitValues

    @Test func matchesMergekit() throws {
        let merged = try MergeHarness.run(NearSwap(), shape: [4, 3], [V.nearInput0, V.nearInput1],
                                     parameters: ["t": .number(0.005)], baseIndex: 0)
        #expect(MergeHarness.relativeError(merged, V.near) <= 1e-6)
        // Both regimes occur: elements closer than t take the other model's value.
        #expect(zip(merged, V.nearInput1).contains { $0 == $1 } && zip(merged, V.nearInput1).contains { $0 != $1 })
    }

    @Test func requiresBaseAndT() {
        let noBase = MergeHarness.error { try MergeHarness.run(NearSwap(), shape: [1], [[1], [2]], parameters: ["t": .number(0.1)]) }
        #expect(MergeHarness.isInvalid(noBase, "base"))
        let noT = MergeHarness.error { try MergeHarness.run(NearSwap(), shape: [1], [[1], [2]], baseIndex: 0) }
        #expect(MergeHarness.isInvalid(noT, "`t`"))
    }
}
