import Foundation
import GGUF
import Merge
import Quant
import Testing

/// `check` on tiny Hugging Face Llamas converted by convert_hf_to_gguf.py (Fixtures/check): a base,
/// two fine-tunes (task vectors of 0.15 and 0.6 of each weight's norm), an independently initialized
/// model of the same shape, and the base's own quantization.
@Suite struct CheckTests {
    static let directory = Fixture.directory.deletingLastPathComponent().appendingPathComponent("check").path
    static func model(_ name: String) throws -> GGUFModel { try GGUFModel(path: directory + "/\(name).gguf") }

    @Test func fineTunesShareTheBasesInitialization() throws {
        let report = try ModelCheck.run([Self.model("base"), Self.model("ft-small"), Self.model("ft-large")], baseIndex: 0)
        #expect(report.isCompatible && report.findings.isEmpty, "\(report.findings)")
        #expect(report.tensors.count == 10)  // attn_q, attn_v, attn_output, ffn_down of two layers; token_embd; output
        for (i, j) in report.pairs { #expect(report.relation(i, j) == .sameInitialization) }
        // The task vectors' sizes as made (each weight's delta norm is 0.15 or 0.6 of its norm).
        #expect(abs(try #require(report.relativeTaskVectorNorm(1)) - 0.15) < 0.005)
        #expect(abs(try #require(report.relativeTaskVectorNorm(2)) - 0.6) < 0.02)
        // Independent Gaussian deltas: task vectors orthogonal, signs agreeing half the time.
        #expect(abs(try #require(report.taskVectorCosine(1, 2))) < 0.05)
        #expect(abs(try #require(report.signAgreement(1, 2)) - 0.5) < 0.02)
        // Every layer, not just the total, says so.
        for layer in report.layers { #expect(CheckReport.cosine(layer.sums, 0, 1) > 0.98) }
    }

    @Test func independentInitializationIsUnrelated() throws {
        let report = try ModelCheck.run([Self.model("base"), Self.model("unrelated")])
        #expect(report.relation(0, 1) == .unrelated)
        #expect(abs(CheckReport.cosine(report.total, 0, 1)) < 0.05)
        // Its tokenizer was trained on other text: same size, other tokens (a warning, not a blocker).
        let tokens = report.findings.compactMap { finding -> Int? in
            if case let .tokens(_, count, examples) = finding, !examples.isEmpty { return count }
            return nil
        }
        #expect(tokens.count == 1 && tokens[0] > 10)
        #expect(report.isCompatible)
        #expect(report.mergeWarnings(taskVectorMethod: false).count == 1)
    }

    @Test func aModelAndItsQuantizationAreIdenticalWithinNoise() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let base = try Self.model("base")
        try Self.quantize(base, to: .q8_0, path: path)
        let report = try ModelCheck.run([base, GGUFModel(path: path), base])
        #expect(report.relation(0, 1) == .identicalWithinNoise)
        #expect(report.relation(0, 2) == .identical)
        let ratio = try #require(CheckReport.noiseRatio(report.total, 0, 1))
        #expect(ratio > 0.5 && ratio < 2, "a file against its own rounding: about one noise energy, got \(ratio)")
    }

    @Test func differentShapesAndHyperparametersAreReported() throws {
        let other = try GGUFModel(path: Fixture.path("base.gguf"))  // a 3-layer Llama of hidden 64
        let report = try ModelCheck.run([Self.model("base"), other])
        #expect(!report.isCompatible)
        #expect(report.findings.contains(.hyperparameter(model: other.path, key: "llama.block_count", found: "3", expected: "2")))
        #expect(report.findings.contains(.missingTensor(model: other.path, tensor: "blk.0.attn_q.weight")))
    }

    @Test func adaptersAreCheckedAgainstTheBase() throws {
        let lora = Fixture.directory.deletingLastPathComponent().appendingPathComponent("lora").path
        let adapter = try LoRAAdapter(path: lora + "/adapter-x.gguf")
        let fits = try ModelCheck.run([GGUFModel(path: lora + "/base-f32.gguf"), GGUFModel(path: lora + "/expected-apply-x.gguf")],
                                      baseIndex: 0, adapters: [adapter])
        #expect(fits.findings.isEmpty)
        let misfit = try ModelCheck.run([GGUFModel(path: Fixture.path("base.gguf")), GGUFModel(path: Fixture.path("a.gguf"))],
                                        baseIndex: 0, adapters: [adapter])
        #expect(misfit.findings.contains { if case .adapter = $0 { true } else { false } })
    }

    /// Writes `model` with every 2-D tensor in `type` (our quantizer) and the rest as F32.
    static func quantize(_ model: GGUFModel, to type: GGMLType, path: String) throws {
        let descriptors = model.tensors.map { TensorDescriptor(name: $0.name, shape: $0.shape, type: $0.shape.count == 2 ? type : .f32) }
        let writer = try GGUFWriter(path: path, metadata: model.metadata, tensors: descriptors)
        for (tensor, descriptor) in zip(model.tensors, descriptors) {
            var values = [Float](repeating: 0, count: tensor.elementCount)
            try values.withUnsafeMutableBufferPointer { out in try model.withBytes(of: tensor) { try Codecs.dequantize(tensor.type, $0, into: out) } }
            var bytes = [UInt8](repeating: 0, count: descriptor.byteCount)
            try values.withUnsafeBufferPointer { src in try bytes.withUnsafeMutableBytes { try Codecs.quantize(descriptor.type, src, into: $0) } }
            try writer.append(bytes)
        }
        try writer.finish()
    }
}
