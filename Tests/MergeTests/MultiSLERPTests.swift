import Testing
@testable import Merge

/// Expected values: mergekit's `multislerp` run with torch on the same inputs (Support/MergekitValues.swift).
@Suite struct MultiSLERPTests {
    private typealias V = MergekitValues

    @Test func threeModelsWithoutBase() throws {
        let merged = try MergeHarness.run(MultiSLERP(), shape: [4, 3], [V.x0, V.x1, V.x2], weights: [0.5, 0.3, 0.2])
        #expect(MergeHarness.relativeError(merged, V.multi3) <= 1e-6)
    }

    @Test func unnormalizedWeights() throws {
        let merged = try MergeHarness.run(MultiSLERP(), shape: [4, 3], [V.x0, V.x1, V.x2], weights: [1, 2, 0.5],
                                     parameters: ["normalize_weights": .bool(false)])
        #expect(MergeHarness.relativeError(merged, V.multiRaw) <= 1e-6)
    }

    @Test func twoModelsAroundBase() throws {
        let merged = try MergeHarness.run(MultiSLERP(), shape: [4, 3], [V.y0, V.y1, V.y2], weights: [0.4, 0.6, nil], baseIndex: 2)
        #expect(MergeHarness.relativeError(merged, V.multiBase) <= 1e-6)
    }

    /// mergekit returns a single non-base model as is, ignoring the base.
    @Test func singleModelIsReturned() throws {
        let merged = try MergeHarness.run(MultiSLERP(), shape: [4, 3], [V.y2, V.y0], weights: [nil, 0.3], baseIndex: 0)
        #expect(merged == V.y0)
    }

    /// Antipodal inputs with equal weights: two fall back to linear interpolation, three are an error.
    @Test func zeroMean() throws {
        let x: [Float] = [1, 2, -3], minus = x.map { -$0 }
        let two = try MergeHarness.run(MultiSLERP(), shape: [3], [x, minus], weights: [1, 1])
        #expect(two == [0, 0, 0])
        let three = MergeHarness.error {
            try MergeHarness.run(MultiSLERP(), shape: [3], [x, minus, x, minus], weights: [1, 1, 1, 1])
        }
        #expect(MergeHarness.isInvalid(three, "zero"))
    }
}
