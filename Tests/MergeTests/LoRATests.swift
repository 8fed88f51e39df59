import Foundation
import GGUF
import Merge
import Quant
import Testing

/// LoRA adapters as merge inputs, against llama-export-lora's and mergekit's results
/// (Fixtures/lora: the reference files trimmed to attn_q, attn_v, ffn_down and attn_norm).
@Suite struct LoRATests {
    static let directory = Fixture.directory.deletingLastPathComponent().appendingPathComponent("lora").path

    static func path(_ name: String) -> String { directory + "/" + name }

    /// Plans and runs a config written in this folder, returning the output's tensors and model.
    static func run(_ yaml: String, outputType: OutputType? = nil) throws
        -> (tensors: [String: (shape: [Int], values: [Float])], model: GGUFModel) {
        let config = try MergeConfig.parse(yaml, file: "test.yml", directory: directory)
        let plan = try MergePlan.build(config, options: MergeOptions(outputType: outputType))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lora-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try MergeEngine(threads: 2).run(plan, to: output)
        return (try Fixture.tensors(atPath: output), try GGUFModel(path: output))
    }

    static func apply(_ adapters: [(String, Double)], base: String = "base-f32.gguf") -> String {
        var yaml = "merge_method: task_arithmetic\nbase_model: \(base)\nmodels:\n"
        for (adapter, scale) in adapters {
            yaml += "  - model: {model: \(base), lora: \(adapter), lora_scale: \(scale)}\n    parameters: {weight: 1}\n"
        }
        return yaml
    }

    static func expectClose(_ ours: [String: (shape: [Int], values: [Float])], _ expectedFile: String,
                            tolerance: Double) throws {
        let expected = try Fixture.tensors(atPath: path(expectedFile))
        #expect(Set(ours.keys) == Set(expected.keys))
        for (name, reference) in expected {
            let error = MergeHarness.relativeError(try #require(ours[name]).values, reference.values)
            #expect(error <= tolerance, "\(expectedFile): \(name) relative error \(error)")
        }
    }

    /// base + scale·(alpha/rank)·B·A, as llama-export-lora computes it in F32 (its matrix product sums
    /// in another order: a few ulps).
    @Test(arguments: [
        ([("adapter-x.gguf", 1.0)], "expected-apply-x.gguf"),
        ([("adapter-y.gguf", 0.5)], "expected-apply-y-0.5.gguf"),
        ([("adapter-x.gguf", 1.0), ("adapter-y.gguf", 0.5)], "expected-apply-xy.gguf"),
        ([("adapter-x.gguf", 1.0), ("adapter-y.gguf", 0.5), ("adapter-z.gguf", 0.25)], "expected-apply-xyz.gguf"),
    ])
    func applyMatchesLlamaExportLora(_ adapters: [(String, Double)], expected: String) throws {
        try Self.expectClose(try Self.run(Self.apply(adapters)).tensors, expected, tolerance: 1e-6)
    }

    /// On a Q8_0 base the adapted tensors keep Q8_0 (llama-export-lora writes F16 there); values stay
    /// within Q8_0's rounding of its result.
    @Test func applyOnQuantizedBaseKeepsTypes() throws {
        let (tensors, model) = try Self.run(Self.apply([("adapter-x.gguf", 1)], base: "base-Q8_0.gguf"))
        let base = try GGUFModel(path: Self.path("base-Q8_0.gguf"))
        for tensor in model.tensors {
            #expect(tensor.type == base.tensor(named: tensor.name)?.type, "\(tensor.name)")
        }
        try Self.expectClose(tensors, "expected-apply-x-on-Q8_0.gguf", tolerance: 0.01)
    }

    /// mergekit 0.1.5 on `model: base+adapter` inputs (it applies each adapter at scale 1, then merges).
    @Test(arguments: ["ties-adapters", "linear-adapters"])
    func mergekitConfigsWithAdapters(_ name: String) throws {
        let yaml = try String(contentsOfFile: Self.path("\(name).yml"), encoding: .utf8)
        try Self.expectClose(try Self.run(yaml).tensors, "expected-\(name).gguf", tolerance: 1e-5)
    }

    /// TIES over three adapters equals TIES over the three full models made by applying each adapter.
    @Test func tiesOverAdaptersEqualsTiesOverAppliedModels() throws {
        var applied: [String] = []
        defer { applied.forEach { try? FileManager.default.removeItem(atPath: $0) } }
        for adapter in ["adapter-x.gguf", "adapter-y.gguf", "adapter-z.gguf"] {
            let config = try MergeConfig.parse(Self.apply([(adapter, 1)]), file: "t.yml", directory: Self.directory)
            let out = Self.directory + "/applied-\(UUID().uuidString).gguf"
            try MergeEngine().run(try MergePlan.build(config), to: out)
            applied.append(out)
        }
        let ties = "merge_method: ties\nbase_model: base-f32.gguf\nparameters: {normalize: true}\nmodels:\n"
        let densities = [(0.5, 1.0), (0.7, 0.5), (0.3, 0.8)]
        var overAdapters = ties, overModels = ties
        for (index, adapter) in ["adapter-x.gguf", "adapter-y.gguf", "adapter-z.gguf"].enumerated() {
            let (density, weight) = densities[index]
            overAdapters += "  - model: base-f32.gguf+\(adapter)\n    parameters: {density: \(density), weight: \(weight)}\n"
            overModels += "  - model: \(applied[index])\n    parameters: {density: \(density), weight: \(weight)}\n"
        }
        let a = try Self.run(overAdapters).tensors, b = try Self.run(overModels).tensors
        for (name, tensor) in a {
            #expect(tensor.values == b[name]!.values, "\(name)")
        }
    }

    @Test func adapterForAnotherModelIsRejected() throws {
        let yaml = "merge_method: task_arithmetic\nbase_model: \(Fixture.path("base.gguf"))\nmodels:\n"
            + "  - model: \(Fixture.path("base.gguf"))+adapter-x.gguf\n    parameters: {weight: 1}\n"
        #expect {
            try Self.run(yaml)
        } throws: { error in
            "\(error)".contains("adapter-x.gguf") && "\(error)".contains("attn_q")
        }
    }

    /// Crafted adapters: a lora_a without its lora_b, and halves that disagree on the rank.
    @Test(arguments: ["missing-pair", "wrong-rank"])
    func malformedAdaptersAreRejected(_ kind: String) throws {
        let adapter = FileManager.default.temporaryDirectory.appendingPathComponent("adapter-\(kind)-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: adapter) }
        var metadata = Metadata()
        metadata.set("general.architecture", .string("llama"))
        metadata.set("general.type", .string("adapter"))
        metadata.set("adapter.type", .string("lora"))
        metadata.set("adapter.lora.alpha", .float32(8))
        var tensors = [TensorDescriptor(name: "blk.0.attn_q.weight.lora_a", shape: [64, 4], type: .f32)]
        if kind == "wrong-rank" {
            tensors.append(TensorDescriptor(name: "blk.0.attn_q.weight.lora_b", shape: [8, 64], type: .f32))
        }
        let writer = try GGUFWriter(path: adapter, metadata: metadata, tensors: tensors)
        for tensor in tensors { try writer.append([UInt8](repeating: 0, count: tensor.byteCount)) }
        try writer.finish()
        let yaml = Self.apply([(adapter, 1)])
        #expect {
            try Self.run(yaml)
        } throws: { error in
            let text = "\(error)"
            return text.contains(adapter) && (kind == "missing-pair" ? text.contains("no .lora_b") : text.contains("do not fit"))
        }
    }
}
