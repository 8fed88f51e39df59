import Merge
import Testing

/// `sce` against mergekit 0.1.5's own `sce` method object run on the fixture inputs
/// (Fixtures/merge/expected-sce.gguf, made by scripts/fixtures/merge_sce.py: inputs a, b, c, base;
/// `select_topk: 0.5`).
@Suite struct SCETests {
    typealias H = MergeHarness

    /// Relative L2 ≤ 1e-5, as for the other deterministic methods. The variance that ranks
    /// elements for `select_topk` is computed in a different order than torch's, which could move
    /// an element across the top-k threshold only on a float-rounding tie; the fixture has none.
    @Test(arguments: ["blk.0.attn_k.weight", "blk.1.ffn_down.weight", "blk.2.attn_norm.weight", "output_norm.weight"])
    func matchesMergekit(tensor: String) throws {
        let expected = try #require(try Fixture.f32Tensors("expected-sce.gguf")[tensor]).values
        let m = SCE()
        let got = try H.merge(m, tensor: tensor, inputs: ["a", "b", "c", "base"], base: "base",
                              perModel: Array(repeating: Parameters(), count: 4),
                              global: H.global(m, ["select_topk": .number(0.5)]))
        let error = H.relativeError(got, expected)
        print("sce \(tensor): relative L2 error \(error)")
        #expect(error <= 1e-5)
    }
}
