import Testing
@testable import Merge

@Suite struct PassthroughTests {
    /// Fixtures/merge/passthrough-slices.yml: slices a[0, 2) then b[1, 3): output layers 0, 1 are a's
    /// layers 0, 1 and output layers 2, 3 are b's layers 1, 2; mergekit takes the final norm from the
    /// last slice's model (b).
    @Test func slicesMapLayersAsMergekit() throws {
        let a = try Fixture.f32Tensors("a.gguf"), b = try Fixture.f32Tensors("b.gguf")
        let expected = try Fixture.f32Tensors("expected-passthrough-slices.gguf")
        #expect(expected.count == 4 * 3 + 1)
        for (name, reference) in expected {
            let source: (shape: [Int], values: [Float])
            if let layer = MergeHarness.layer(of: name) {
                #expect((0 ..< 4).contains(layer))
                let kind = name.split(separator: ".").dropFirst(2).joined(separator: ".")
                source = try #require(layer < 2 ? a["blk.\(layer).\(kind)"] : b["blk.\(layer - 1).\(kind)"])
            } else {
                source = try #require(b[name])
            }
            #expect(source.shape == reference.shape)
            let merged = try MergeHarness.run(Passthrough(), name: name, shape: source.shape, [source.values])
            #expect(merged == reference.values, "\(name)")
        }
        // The mapping is not trivially satisfied: a and b differ on these layers.
        #expect(a["blk.1.attn_k.weight"]!.values != b["blk.1.attn_k.weight"]!.values)
    }

    @Test func scaleMultiplies() throws {
        let merged = try MergeHarness.run(Passthrough(), shape: [3], [[1, -2, 0.5]],
                                     modelParameters: [Parameters(["scale": .number(0.5)])])
        #expect(merged == [0.5, -1, 0.25])
    }

    @Test func rejectsSeveralInputs() {
        let error = MergeHarness.error { try MergeHarness.run(Passthrough(), shape: [1], [[1], [2]]) }
        #expect(MergeHarness.isInvalid(error, "exactly 1 input"))
    }
}
