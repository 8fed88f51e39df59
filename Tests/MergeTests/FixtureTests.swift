import Testing

@Test func fixtureReaderReadsMergekitOutput() throws {
    let tensors = try Fixture.f32Tensors("expected-linear.gguf")
    let norm = try #require(tensors["output_norm.weight"])
    #expect(norm.shape == [64])
    let k = try #require(tensors["blk.1.attn_k.weight"])
    #expect(k.shape == [64, 32] && k.values.count == 2048)
}
