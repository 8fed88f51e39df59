import Foundation
import GGUF
import Merge
import Quant
import Testing

/// End to end: every mergekit config of Fixtures/merge runs unchanged (plan → engine → GGUF file)
/// and matches mergekit's own output for every tensor.
@Suite struct ConfigMergeTests {
    /// Runs `config` into a temporary file and returns the output's tensors.
    static func merge(_ config: String, outputType: OutputType? = nil, threads: Int = 2, seed: UInt64 = 0) throws
        -> (tensors: [String: (shape: [Int], values: [Float])], model: GGUFModel, plan: MergePlan) {
        let plan = try MergePlan.build(try MergeConfig.load(path: Fixture.path(config)),
                                       options: MergeOptions(outputType: outputType, configText: "test"))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ggufmerge-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try MergeEngine(threads: threads, seed: seed).run(plan, to: output)
        let model = try GGUFModel(path: output)
        return (try Fixture.tensors(atPath: output), model, plan)
    }

    /// Deterministic methods: relative L2 error ≤ 1e-5 on every tensor (mergekit computes in float32
    /// with torch; our summation order differs, which costs a few ulps, nothing more).
    @Test(arguments: ["linear", "linear-nonorm", "slerp", "slerp-gradient", "nuslerp", "model_stock",
                      "passthrough-slices", "task_arithmetic", "ties", "ties-gradient", "breadcrumbs_ties"])
    func matchesMergekit(_ name: String) throws {
        let (ours, _, _) = try Self.merge("\(name).yml")
        let expected = try Fixture.f32Tensors("expected-\(name).gguf")
        #expect(Set(ours.keys) == Set(expected.keys))
        for (tensor, reference) in expected {
            let mine = try #require(ours[tensor], "\(name): missing \(tensor)")
            #expect(mine.shape == reference.shape)
            let error = MergeHarness.relativeError(mine.values, reference.values)
            #expect(error <= 1e-5, "\(name): \(tensor) relative error \(error)")
        }
    }

    @Test func outputKeepsProvenanceAndBaseMetadata() throws {
        let (_, model, plan) = try Self.merge("ties.yml")
        let metadata = model.metadata
        #expect(metadata["general.architecture"]?.string == "llama")
        #expect(metadata["general.base_model.count"]?.int == plan.inputs.count)
        #expect(plan.inputs.count == 4)
        let parents = (0 ..< 4).compactMap { metadata["general.base_model.\($0).name"]?.string }
        #expect(Set(parents) == ["Base", "A", "B", "C"])
        #expect(metadata["ggufmerge.config"]?.string == "test")
        let base = try GGUFModel(path: Fixture.path("base.gguf")).metadata
        #expect(metadata["tokenizer.ggml.tokens"] == base["tokenizer.ggml.tokens"])
        #expect(metadata["llama.vocab_size"]?.int == 512)
    }

    @Test func passthroughSlicesRenumberLayers() throws {
        let (_, model, _) = try Self.merge("passthrough-slices.yml")
        #expect(model.metadata["llama.block_count"]?.int == 4)
        #expect(model.tensor(named: "blk.3.attn_k.weight") != nil)
    }

    /// Quantization-aware output: the merged tensors take llama-quantize's Q8_0 rule (1-D stay F32),
    /// and the requantized values stay within Q8_0's error of mergekit's result.
    @Test func quantizedOutputFollowsFileTypeRules() throws {
        let (ours, model, _) = try Self.merge("ties.yml", outputType: .fileType(.q8_0))
        for tensor in model.tensors {
            #expect(tensor.type == (tensor.shape.count == 1 ? .f32 : .q8_0), "\(tensor.name)")
        }
        let expected = try Fixture.f32Tensors("expected-ties.gguf")
        for (tensor, reference) in expected {
            // Q8_0 keeps 8 bits per weight with a per-32 scale: relative error well under 1 %.
            #expect(MergeHarness.relativeError(ours[tensor]!.values, reference.values) < 0.01, "\(tensor)")
        }
        #expect(model.metadata["general.file_type"]?.int == Int(FileType.q8_0.rawValue))
    }

    /// DARE is random: the same seed gives byte-identical tensors at 1 and 2 threads.
    @Test func dareIsDeterministicAcrossThreadCounts() throws {
        let one = try Self.merge("dare_ties.yml", threads: 1, seed: 7).tensors
        let two = try Self.merge("dare_ties.yml", threads: 2, seed: 7).tensors
        let other = try Self.merge("dare_ties.yml", threads: 2, seed: 8).tensors
        for (name, tensor) in one {
            #expect(tensor.values == two[name]!.values, "\(name)")
        }
        #expect(one.contains { $0.value.values != other[$0.key]!.values })
    }
}

/// Streaming in row chunks gives the same bytes as whole tensors.
@Suite struct ChunkedStreamingTests {
    static func run(_ plan: MergePlan, chunkElements: Int) throws -> Data {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("chunk-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var engine = MergeEngine(threads: 2)
        engine.chunkElements = chunkElements
        try engine.run(plan, to: output)
        return try Data(contentsOf: URL(fileURLWithPath: output))
    }

    @Test func rowLocalMergeAndRequantization() throws {
        let config = try MergeConfig.load(path: Fixture.path("task_arithmetic.yml"))
        let plan = try MergePlan.build(config, options: MergeOptions(outputType: .fileType(.q8_0)))
        #expect(plan.methodName == "task_arithmetic")
        // 64 rows of 64 (ffn_down: 128) floats per chunk: every 2-D tensor streams in several chunks.
        #expect(try Self.run(plan, chunkElements: 64 * 64) == Self.run(plan, chunkElements: 1 << 24))
    }
}

/// A merge whose result is exactly one input copies that input's bytes, never requantizing them.
@Suite struct ExactInputTests {
    @Test func zeroTaskVectorWeightsCopyTheBase() throws {
        let yaml = "merge_method: ties\nbase_model: base.gguf\nmodels:\n"
            + "  - model: a.gguf\n    parameters: {weight: 0, density: 0.5}\n"
            + "  - model: b.gguf\n    parameters: {weight: 0, density: 0.5}\n"
        let config = try MergeConfig.parse(yaml, file: "zero.yml", directory: Fixture.directory.path)
        let plan = try MergePlan.build(config)
        for job in plan.jobs {
            guard case let .copy(source) = job.operation else {
                Issue.record("\(job.name) is not a copy")
                continue
            }
            #expect(plan.inputs[source.input].label == "base.gguf")
        }
    }
}

/// Models that cannot be merged are refused while planning, with one line that says why.
@Suite struct CompatibilityTests {
    /// Writes a one-layer llama-like model with `vocab` embedding rows and `width`-wide layer weights.
    static func model(vocab: Int, width: Int = 8, architecture: String = "llama") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("compat-\(UUID().uuidString).gguf").path
        var metadata = Metadata()
        metadata.set("general.architecture", .string(architecture))
        metadata.set("\(architecture).block_count", .uint32(1))
        let tensors = [TensorDescriptor(name: "token_embd.weight", shape: [8, vocab], type: .f32),
                       TensorDescriptor(name: "blk.0.attn_q.weight", shape: [width, 8], type: .f32)]
        let writer = try GGUFWriter(path: path, metadata: metadata, tensors: tensors)
        for tensor in tensors { try writer.append([UInt8](repeating: 0, count: tensor.byteCount)) }
        try writer.finish()
        return path
    }

    static func plan(_ base: String, _ other: String) throws -> MergePlan {
        let yaml = "merge_method: task_arithmetic\nbase_model: \(base)\nmodels:\n  - model: \(other)\n    parameters: {weight: 1}\n"
        return try MergePlan.build(try MergeConfig.parse(yaml, file: "c.yml", directory: "/"))
    }

    @Test func vocabularySizeMismatch() throws {
        let a = try Self.model(vocab: 10), b = try Self.model(vocab: 12)
        defer { [a, b].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        #expect(throws: MergeError.incompatible("vocabulary sizes differ: \(b) has 12 tokens, \(a) has 10 (token_embd.weight); choose a tokenizer (tokenizer_source: base, union or a model)")) {
            try Self.plan(a, b)
        }
    }

    @Test func shapeMismatchNamesTheTensor() throws {
        let a = try Self.model(vocab: 10), b = try Self.model(vocab: 10, width: 16)
        defer { [a, b].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        #expect(throws: MergeError.incompatible("tensor blk.0.attn_q.weight: \(b) has shape [16, 8], \(a) has [8, 8]")) {
            try Self.plan(a, b)
        }
    }

    @Test func architectureMismatch() throws {
        let a = try Self.model(vocab: 10), b = try Self.model(vocab: 10, architecture: "qwen2")
        defer { [a, b].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        #expect(throws: MergeError.self) { try Self.plan(a, b) }
        do { _ = try Self.plan(a, b) } catch { #expect("\(error)".contains("architectures differ")) }
    }
}

extension ExactInputTests {
    @Test(arguments: [("t: 0", "a.gguf"), ("t: 1", "b.gguf")])
    func slerpEndpointsCopyAnInput(_ parameter: String, _ expected: String) throws {
        let yaml = "merge_method: slerp\nbase_model: a.gguf\nparameters: {\(parameter)}\nmodels:\n  - model: a.gguf\n  - model: b.gguf\n"
        let plan = try MergePlan.build(try MergeConfig.parse(yaml, file: "s.yml", directory: Fixture.directory.path))
        for job in plan.jobs {
            guard case let .copy(source) = job.operation else { Issue.record("\(job.name) is not a copy"); continue }
            #expect(plan.inputs[source.input].label == expected)
        }
    }

    @Test func linearWithOneWeightCopiesThatModel() throws {
        let yaml = "merge_method: linear\nmodels:\n  - model: a.gguf\n    parameters: {weight: 0}\n  - model: b.gguf\n    parameters: {weight: 0.3}\n"
        let plan = try MergePlan.build(try MergeConfig.parse(yaml, file: "l.yml", directory: Fixture.directory.path))
        #expect(plan.methodName == "linear")
        for job in plan.jobs {
            guard case let .copy(source) = job.operation else { Issue.record("\(job.name) is not a copy"); continue }
            #expect(plan.inputs[source.input].label == "b.gguf")
        }
    }
}

extension ExactInputTests {
    /// passthrough copies bytes only at scale 1; another scale multiplies (mergekit's `scale`).
    @Test func passthroughScaleIsApplied() throws {
        let yaml = "merge_method: passthrough\nslices:\n  - sources:\n      - model: a.gguf\n        layer_range: [0, 3]\n"
            + "        parameters: {scale: 0.5}\n"
        let plan = try MergePlan.build(try MergeConfig.parse(yaml, file: "p.yml", directory: Fixture.directory.path))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("scaled-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try MergeEngine(threads: 2).run(plan, to: output)
        let ours = try Fixture.tensors(atPath: output), a = try Fixture.f32Tensors("a.gguf")
        for (name, tensor) in a {
            #expect(ours[name]?.values == tensor.values.map { $0 * 0.5 }, "\(name)")
        }
        let unscaled = try MergePlan.build(try MergeConfig.parse(yaml.replacingOccurrences(of: "0.5", with: "1"),
                                                                 file: "p.yml", directory: Fixture.directory.path))
        #expect(unscaled.jobs.allSatisfy { if case .copy = $0.operation { true } else { false } })
    }
}

extension ExactInputTests {
    /// Byte-identical inputs are copied only when the method returns equal inputs unchanged: a linear
    /// sum with weights 0.7 + 0.6 and no normalization gives 1.3 × the input.
    @Test func identicalInputsFollowTheMethod() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("a-\(UUID().uuidString).gguf").path
        try FileManager.default.copyItem(atPath: Fixture.path("a.gguf"), toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let yaml = "merge_method: linear\nparameters: {normalize: false}\nmodels:\n"
            + "  - model: a.gguf\n    parameters: {weight: 0.7}\n  - model: \(copy)\n    parameters: {weight: 0.6}\n"
        let plan = try MergePlan.build(try MergeConfig.parse(yaml, file: "l.yml", directory: Fixture.directory.path))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sum-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try MergeEngine(threads: 2).run(plan, to: output)
        let ours = try Fixture.tensors(atPath: output), a = try Fixture.f32Tensors("a.gguf")
        for (name, tensor) in a {
            let expected = tensor.values.map { ($0 * Float(0.7) + $0 * Float(0.6)) }
            #expect(ours[name]?.values == expected, "\(name)")
        }
    }
}
