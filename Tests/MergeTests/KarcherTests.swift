import Testing
@testable import Merge

/// Expected values: mergekit's `karcher` run with torch on the same inputs (Support/MergekitValues.swift).
@Suite struct KarcherTests {
    private typealias V = MergekitValues

    @Test func defaults() throws {
        let merged = try MergeHarness.run(Karcher(), shape: [4, 3], [V.x0, V.x1, V.x2])
        #expect(MergeHarness.relativeError(merged, V.karcher3) <= 1e-6)
    }

    /// Two iterations stop before convergence: a different result, still mergekit's.
    @Test func twoIterations() throws {
        let merged = try MergeHarness.run(Karcher(), shape: [4, 3], [V.x0, V.x1, V.x2],
                                     parameters: ["max_iter": .number(2), "tol": .number(1e-5)])
        #expect(MergeHarness.relativeError(merged, V.karcher2Iter) <= 1e-6)
        #expect(MergeHarness.relativeError(V.karcher2Iter, V.karcher3) > 1e-4)
    }

    @Test func singleInputAndZeros() throws {
        #expect(try MergeHarness.run(Karcher(), shape: [4, 3], [V.x1]) == V.x1)
        #expect(try MergeHarness.run(Karcher(), shape: [2], [[0, 0], [0, 0]]) == [0, 0])
    }

    @Test func rejectsFractionalMaxIter() {
        let error = MergeHarness.error { try MergeHarness.run(Karcher(), shape: [1], [[1], [2]], parameters: ["max_iter": .number(2.5)]) }
        #expect(MergeHarness.isInvalid(error, "max_iter"))
    }
}
