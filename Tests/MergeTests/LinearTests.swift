import Merge
import Testing

/// `linear` against mergekit 0.1.5: the fixture configs (expected-linear*.gguf) and small cases whose
/// values follow from mergekit's formula `Σ wᵢxᵢ / Σ wᵢ` (checked against mergekit's kernel).
@Suite struct LinearTests {
    typealias H = MergeHarness
    let m = Linear()

    @Test func fixtures() throws {
        // linear.yml: a weight 0.7, b weight 0.3 (normalize defaults to true).
        #expect(try H.worstError("linear", m, inputs: ["a", "b"], base: nil,
                                 perModel: { _ in [H.model(m, ["weight": 0.7]), H.model(m, ["weight": 0.3])] },
                                 global: { _ in H.global(m) }) <= 1e-6)
        // linear-nonorm.yml: a 0.7, b 0.6, normalize false.
        #expect(try H.worstError("linear-nonorm", m, inputs: ["a", "b"], base: nil,
                                 perModel: { _ in [H.model(m, ["weight": 0.7]), H.model(m, ["weight": 0.6])] },
                                 global: { _ in H.global(m, ["normalize": .bool(false)]) }) <= 1e-6)
    }

    @Test func parametersAreMergekits() {
        #expect(m.parameters == [ParameterSpec("weight", .number, .perModel, default: nil),
                                 ParameterSpec("normalize", .bool, .global, default: .bool(true))])
        #expect(m.basePolicy == .ignored)
        #expect(MergeMethods.named("linear") != nil)
    }

    @Test func normalizeDividesByTheWeightSum() throws {
        // (1·[1, 2] + 3·[3, 4]) / (1 + 3) = [10, 14] / 4 = [2.5, 3.5]; without normalize: [10, 14].
        #expect(try H.run(m, [[1, 2], [3, 4]], perModel: [["weight": 1], ["weight": 3]]) == [2.5, 3.5])
        #expect(try H.run(m, [[1, 2], [3, 4]], perModel: [["weight": 1], ["weight": 3]],
                          global: ["normalize": .bool(false)]) == [10, 14])
    }

    @Test func zeroTotalWeight() throws {
        // Without normalize the sum stands: 1·[1, 2] − 1·[3, 4] = [−2, −2].
        #expect(try H.run(m, [[1, 2], [3, 4]], perModel: [["weight": 1], ["weight": -1]],
                          global: ["normalize": .bool(false)]) == [-2, -2])
        // With normalize mergekit divides by 0 (−inf here); we refuse.
        #expect(throws: MergeError.self) {
            try H.run(m, [[1, 2], [3, 4]], perModel: [["weight": 1], ["weight": -1]])
        }
    }

    @Test func singleInputWithWeightOneIsItself() throws {
        #expect(try H.run(m, [[1.5, -2, 0]], perModel: [["weight": 1]]) == [1.5, -2, 0])
    }
}
