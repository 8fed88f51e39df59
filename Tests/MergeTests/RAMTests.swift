import Testing
@testable import Merge

/// Expected values: mergekit's `ram` and `ramplus_tl` run with torch on the same inputs
/// (Support/MergekitValues.swift): a base and three models changing overlapping sparse sets of elements.
@Suite struct RAMTests {
    private typealias V = MergekitValues
    private static let inputs = [V.ram0, V.ram1, V.ram2, V.ram3]

    @Test(arguments: [
        (RAM.ram, [String: ParameterValue](), V.ramMerged),
        (RAM.ram, ["epsilon": .number(0.05)], V.ramEpsilon),
        (RAM.ramplusTL, [:], V.ramPlus),
        (RAM.ramplusTL, ["r": .number(0.5), "alpha": .number(0.9), "epsilon": .number(0.01)], V.ramPlusTuned),
    ])
    func matchesMergekit(_ method: RAM, _ parameters: [String: ParameterValue], _ expected: [Float]) throws {
        // In one piece, and cut into 1-row pieces: ramplus_tl's counts add up across pieces.
        for rows in [4, 1] {
            let merged = try MergeHarness.run(method, shape: [6, 4], Self.inputs, parameters: parameters, baseIndex: 0,
                                              rowsPerPiece: rows)
            #expect(MergeHarness.relativeError(merged, expected) <= 1e-6)
        }
    }

    /// The cases differ where they should: ramplus_tl scales unique changes, epsilon drops small ones.
    @Test func casesAreDistinct() throws {
        #expect(V.ramMerged != V.ramPlus && V.ramMerged != V.ramEpsilon && V.ramPlus != V.ramPlusTuned)
        // The change below epsilon (element 0) is dropped: the base's value.
        #expect(V.ramMerged[0] == V.ram0[0])
    }

    @Test func statisticsCountSharedAndUniqueChanges() {
        // Model 0 changes elements 0 and 1, model 1 element 1: model 0 has 1 shared and 1 unique change
        // (ρ = 1, clamped to α = 0.2), model 1 only a shared one (ρ = 1/ε, clamped).
        let a: [Float] = [1, 1, 0], b: [Float] = [0, 1, 0]
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                let (shared, unique) = RAM.counts([a, b], epsilon: 1e-5)
                #expect(shared == [1, 1] && unique == [1, 0])
                #expect(RAM.scales(shared: shared, unique: unique, epsilon: 1e-5, r: 0.1, alpha: 0.2) == [1 + 0.1 * 0.2, 1 + 0.1 * 0.2])
                #expect(RAM.scales(shared: shared, unique: unique, epsilon: 1e-5, r: 0.5, alpha: 2) == [1.5, 2])
            }
        }
    }

    @Test func requiresBase() {
        let noBase = MergeHarness.error { try MergeHarness.run(RAM.ram, shape: [1], [[1], [2]]) }
        #expect(MergeHarness.isInvalid(noBase, "base"))
        #expect(MergeMethods.named("ram") != nil && MergeMethods.named("ramplus_tl") != nil)
    }
}
