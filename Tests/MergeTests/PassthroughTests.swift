import Merge
import Testing

/// `passthrough`: the single input, unchanged (mergekit's contract: at most one input).
@Suite struct PassthroughTests {
    @Test func copiesTheSingleInput() throws {
        let m = Passthrough()
        #expect(m.parameters.isEmpty)
        #expect(try MergeHarness.run(m, [[1, -2.5, .infinity]]) == [1, -2.5, .infinity])
        #expect(throws: MergeError.self) { try MergeHarness.run(m, [[1], [2]]) }
    }
}
