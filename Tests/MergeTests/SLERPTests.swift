import Foundation
import GGUF
import Quant
import Testing
@testable import Merge

@Suite struct SLERPTests {
    /// Fixtures/merge/slerp.yml: models a, b; base a (first input); t = 0.3.
    @Test func matchesMergekit() throws {
        let fixture = try FixtureMerge("slerp", inputs: ["a", "b"])
        let worst = try fixture.maxError(SLERP(), files: ["a", "b"], baseIndex: 0,
                                         parameters: { _ in ["t": .number(0.3)] })
        print("slerp.yml: max relative L2 error \(worst)")
    }

    /// The `t` mergekit resolves for slerp-gradient.yml. Layer j of 3 gets the value at j/(3−1) along a
    /// gradient list (linearly interpolated; here exactly the list items). `self_attn` matches the HF
    /// name of attn_k, `mlp` that of ffn_down; the norms match neither filter and take the fallback
    /// 0.5. Non-layer tensors are planned with t = 0 (a list's first value), but output_norm
    /// (`model.norm.weight`) matches no filter either, so it also gets 0.5.
    static func gradientT(_ name: String) -> Double {
        guard let layer = MergeHarness.layer(of: name) else { return 0.5 }
        if name.contains("attn_k") { return [0, 0.5, 1][layer] }
        if name.contains("ffn_down") { return [1, 0.5, 0][layer] }
        return 0.5
    }

    /// Fixtures/merge/slerp-gradient.yml: slices of a and b, base a, filtered gradients of t.
    @Test func matchesMergekitGradient() throws {
        let fixture = try FixtureMerge("slerp-gradient", inputs: ["a", "b"])
        let worst = try fixture.maxError(SLERP(), files: ["a", "b"], baseIndex: 0,
                                         parameters: { ["t": .number(Self.gradientT($0))] })
        print("slerp-gradient.yml: max relative L2 error \(worst)")
    }

    /// t = 0 gives the base model exactly, t = 1 the other model, whichever input is the base.
    @Test(arguments: [0, 1])
    func endpointsAreTheInputs(baseIndex: Int) throws {
        let x = MergekitValues.x0, y = MergekitValues.x1
        let inputs = baseIndex == 0 ? [x, y] : [y, x]
        #expect(try MergeHarness.run(SLERP(), shape: [4, 3], inputs, parameters: ["t": .number(0)], baseIndex: baseIndex) == x)
        #expect(try MergeHarness.run(SLERP(), shape: [4, 3], inputs, parameters: ["t": .number(1)], baseIndex: baseIndex) == y)
    }

    /// Colinear inputs (cos θ = 1 > 0.9995) use linear interpolation (mergekit's result via torch).
    @Test func colinearFallsBackToLerp() throws {
        let merged = try MergeHarness.run(SLERP(), shape: [4, 3], [MergekitValues.x0, MergekitValues.slerpColinearInput1],
                                     parameters: ["t": .number(0.25)], baseIndex: 0)
        #expect(MergeHarness.relativeError(merged, MergekitValues.slerpColinear) <= 1e-6)
    }

    /// Q8_0 inputs: the statistics come from the stored blocks (integer sums of quant products times the
    /// scales), the same terms as over decoded values, so the merged file is the one the decoded path
    /// gives: each tensor the harness's SLERP of the decoded inputs, requantized, byte for byte.
    @Test func q8_0InputsGiveTheDecodedPathsBytes() throws {
        try Fixture.withTemporaryFolder("slerp-q8") { folder in
            try Fixture.quantizeToQ8_0([Fixture.path("a.gguf"), Fixture.path("b.gguf")], in: folder)
            let text = "models:\n  - model: a.gguf\n  - model: b.gguf\nmerge_method: slerp\nbase_model: a.gguf\nparameters:\n  t: 0.3\n"
            try MergeEngine(threads: 2).run(try MergePlan.build(try MergeConfig.parse(text, file: "q8.yml", directory: folder)),
                                            to: "\(folder)/out.gguf")
            let a = try Fixture.tensors(atPath: "\(folder)/a.gguf"), b = try Fixture.tensors(atPath: "\(folder)/b.gguf")
            let merged = try GGUFModel(path: "\(folder)/out.gguf")
            var q8Tensors = 0
            for tensor in merged.tensors {
                let (shape, x) = try #require(a[tensor.name]), y = try #require(b[tensor.name]).values
                let expected = try MergeHarness.run(SLERP(), shape: shape, [x, y], parameters: ["t": .number(0.3)], baseIndex: 0,
                                                    rowsPerPiece: 64)
                var bytes = [UInt8](repeating: 0, count: tensor.byteCount)
                try expected.withUnsafeBufferPointer { src in
                    try bytes.withUnsafeMutableBytes { try Codecs.quantize(tensor.type, src, into: $0, rowLength: shape[0], importance: nil) }
                }
                let same = merged.withBytes(of: tensor) { Array($0) } == bytes
                #expect(same, "\(tensor.name)")
                if tensor.type == .q8_0 { q8Tensors += 1 }
            }
            #expect(q8Tensors > 0)
        }
    }

    /// The sums from stored Q8_0 blocks are the decoded values' sums, up to the order of additions:
    /// real blocks, and blocks at the edges (zero scale, quants of −128 and 127, the largest scale).
    @Test func q8_0StoredStatisticsMatchTheDecodedOnes() throws {
        let values = try #require(try Fixture.tensors(atPath: Fixture.path("a.gguf")).values.max { $0.values.count < $1.values.count }).values
        let n = values.count / 32 * 32, other = Array(values.reversed().prefix(n))
        var x = [UInt8](repeating: 0, count: n / 32 * 34), y = x
        try values.withUnsafeBufferPointer { src in
            try x.withUnsafeMutableBytes { try Codecs.quantize(.q8_0, UnsafeBufferPointer(rebasing: src[..<n]), into: $0, rowLength: 32, importance: nil) }
        }
        try other.withUnsafeBufferPointer { src in
            try y.withUnsafeMutableBytes { try Codecs.quantize(.q8_0, src, into: $0, rowLength: 32, importance: nil) }
        }
        // Edge blocks: a zero scale, all −128, all 127 at the largest finite half scale.
        var edges = [UInt8](repeating: 0, count: 3 * 34)
        edges[34...35] = [0x00, 0x3C]; for j in 36 ..< 68 { edges[j] = 0x80 }          // d = 1, q = −128
        edges[68...69] = [0xFF, 0x7B]; for j in 70 ..< 102 { edges[j] = 0x7F }         // d = 65504, q = 127
        x += edges
        y += edges
        let blocks = x.count / 34
        let merge = SLERP.Merge(t: 0.5, base: 0, empty: false)
        let stored = try #require(x.withUnsafeBytes { xs in y.withUnsafeBytes { ys in merge.statistics(stored: [xs, ys], type: .q8_0) } })
        var dx = [Float](repeating: 0, count: blocks * 32), dy = dx
        try x.withUnsafeBytes { src in try dx.withUnsafeMutableBufferPointer { try Codecs.dequantize(.q8_0, src, into: $0) } }
        try y.withUnsafeBytes { src in try dy.withUnsafeMutableBufferPointer { try Codecs.dequantize(.q8_0, src, into: $0) } }
        let decoded = dx.withUnsafeBufferPointer { xs in dy.withUnsafeBufferPointer { ys in VectorMath.PairSums(xs, ys) } }
        for (s, d) in [(stored.xx, decoded.xx), (stored.yy, decoded.yy), (stored.xy, decoded.xy)] {
            #expect(abs(s - d) <= 1e-12 * abs(d), "\(s) vs \(d)")
        }
        #expect(SLERP.Merge(t: 0.5, base: 0, empty: false).statistics(stored: [], type: .q4_0) == nil)
    }

    @Test func rejectsWrongInputs() {
        let noBase = MergeHarness.error { try MergeHarness.run(SLERP(), shape: [2], [[1, 2], [3, 4]], parameters: ["t": .number(0.5)]) }
        #expect(MergeHarness.isInvalid(noBase, "base"))
        let three = MergeHarness.error {
            try MergeHarness.run(SLERP(), shape: [2], [[1, 2], [3, 4], [5, 6]], parameters: ["t": .number(0.5)], baseIndex: 0)
        }
        #expect(MergeHarness.isInvalid(three, "exactly 2"))
        let noT = MergeHarness.error { try MergeHarness.run(SLERP(), shape: [2], [[1, 2], [3, 4]], baseIndex: 0) }
        #expect(MergeHarness.isInvalid(noT, "`t`"))
    }
}
