import Testing
@testable import Merge

/// Expected values: mergekit's `karcher` run with torch on the same inputs (Support/MergekitValues.swift).
@Suite struct KarcherTests {
    private typealias V = MergekitValues

    @Test func defaults() throws {
        let merged = try Harness.run(Karcher(), shape: [4, 3], [V.x0, V.x1, V.x2])
        #expect(Harness.relativeError(merged, V.karcher3) <= 1e-6)
    }

    /// Two iterations stop before convergence: a different result, still mergekit's.
    @Test func twoIterations() throws {
        let merged = try Harness.run(Karcher(), shape: [4, 3], [V.x0, V.x1, V.x2],
                                     parameters: ["max_iter": .number(2), "tol": .number(1e-5)])
        #expect(Harness.relativeError(merged, V.karcher2Iter) <= 1e-6)
        #expect(Harness.relativeError(V.karcher2Iter, V.karcher3) > 1e-4)
    }

    @Test func singleInputAndZeros() throws {
        #expect(try Harness.run(Karcher(), shape: [4, 3], [V.x1]) == V.x1)
        #expect(try Harness.run(Karcher(), shape: [2], [[0, 0], [0, 0]]) == [0, 0])
    }

    @Test func rejectsFractionalMaxIter() {
        let error = Harness.error { try Harness.run(Karcher(), shape: [1], [[1], [2]], parameters: ["max_iter": .number(2.5)]) }
        #expect(Harness.isInvalid(error, "max_iter"))
    }
}
