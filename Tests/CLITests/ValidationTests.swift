import Foundation
import GGUF
import Testing

/// Errors known before a run are refused before it, naming where the user wrote the culprit:
/// `file:line:column` in a config, the option on the command line.
@Suite struct ValidationTests {
    static let merge = CLITests.merge

    static func runConfig(_ yaml: String) throws -> CLITests.Result {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try CLITests.run(["merge", try CLITests.config(yaml, in: directory), "-o", directory + "/out.gguf"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["config.yml"])
        return result
    }

    @Test(arguments: [
        ("ties", "density: 1.5", "3:38: parameter 'density' of model", "is 1.5, outside [0, 1]"),
        ("ties", "density: -0.2", "3:38: parameter 'density' of model", "is -0.2, outside [0, 1]"),
        ("ties", "density: [1, 0.5, 1.2]", "3:47: parameter 'density' of model", "is 1.2, outside [0, 1]"),
        ("breadcrumbs", "density: 0.9, gamma: 2", "3:50: parameter 'gamma' of model", "is 2, outside [0, 1]"),
        ("ties", "density: .nan", "3:38: parameter 'density' of model", "must be a finite number"),
    ])
    func parameterOutOfRange(_ method: String, _ parameters: String, _ position: String, _ message: String) throws {
        let yaml = "models:\n  - model: \(Self.merge)/a.gguf\n    parameters: {weight: 1, \(parameters)}\nmerge_method: \(method)\nbase_model: \(Self.merge)/base.gguf\n"
        let result = try Self.runConfig(yaml)
        #expect(result.status == 2)
        #expect(result.stderr.contains("config.yml:\(position)") && result.stderr.contains(message), "\(result.stderr)")
    }

    /// Normalizing weights that sum to 0 (linear), or NuSLERP's t = w₂/(w₁+w₂) with w₁ + w₂ = 0, name
    /// the line that set the weights.
    @Test(arguments: [("linear", "", "weights sum to 0, which normalizing divides by"),
                      ("nuslerp", "", "weights sum to 0: t = w₂ / (w₁ + w₂) is undefined")])
    func weightsSummingToZero(_ method: String, _ extra: String, _ message: String) throws {
        let yaml = "models:\n  - model: \(Self.merge)/a.gguf\n    parameters:\n      weight: 0.5\n  - model: \(Self.merge)/b.gguf\n    parameters: {weight: -0.5}\nmerge_method: \(method)\n"
        let result = try Self.runConfig(yaml)
        #expect(result.status == 2)
        #expect(result.stderr.contains("config.yml:4:15: \(method): tensor ") && result.stderr.contains(message), "\(result.stderr)")
    }

    /// The quick form's errors name the option, not a position in a config the user never wrote.
    @Test(arguments: [
        (["--method", "slerp", "--param", "t=0.5", "{a}", "{b}"], "Error: --method slerp: merge method 'slerp' requires a base_model"),
        (["--method", "ties", "--param", "density=2", "--param", "weight=1", "--base", "{base}", "{a}"], "Error: --param density=2: parameter 'density' is 2, outside [0, 1]"),
        (["--method", "nuslerp", "--param", "weight=0", "{a}", "{b}"], "Error: --param weight=0: nuslerp: tensor "),
        (["--method", "linear", "--param", "weight=1", "--base", "{base}", "missing.gguf"], "missing.gguf: cannot open"),
    ])
    func quickFormNamesTheOption(_ template: [String], _ message: String) throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = ["merge"] + template.map {
            $0.replacingOccurrences(of: "{a}", with: Self.merge + "/a.gguf").replacingOccurrences(of: "{b}", with: Self.merge + "/b.gguf")
                .replacingOccurrences(of: "{base}", with: Self.merge + "/base.gguf")
        } + ["-o", directory + "/out.gguf"]
        let result = try CLITests.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message) && !result.stderr.contains(":1:") && !result.stderr.contains(":6:"), "\(result.stderr)")
    }

    /// Slices of models that differ in a hyperparameter llama.cpp reads would make a file that says
    /// one width and holds another: refused, naming both models.
    @Test func passthroughOfDifferentWidthsIsRefused() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = try GGUFModel(path: Self.merge + "/a.gguf")
        var metadata = source.metadata
        metadata.set("llama.embedding_length", .uint32(256))
        let writer = try GGUFWriter(path: directory + "/wide.gguf", metadata: metadata,
                                    tensors: source.tensors.map { TensorDescriptor(name: $0.name, shape: $0.shape, type: $0.type) })
        for tensor in source.tensors { try source.withBytes(of: tensor) { try writer.append($0) } }
        try writer.finish()
        let yaml = "slices:\n  - sources:\n      - model: \(Self.merge)/a.gguf\n        layer_range: [0, 2]\n"
            + "  - sources:\n      - model: wide.gguf\n        layer_range: [0, 2]\nmerge_method: passthrough\n"
        let result = try CLITests.run(["merge", try CLITests.config(yaml, in: directory), "-o", directory + "/out.gguf"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("llama.embedding_length is 256 in wide.gguf but 64 in \(Self.merge)/a.gguf"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["config.yml", "wide.gguf"])
    }

    /// Q4_K_M on rows that are not a multiple of 256 falls back, as llama-quantize does; the progress
    /// lines and the report say so.
    @Test func shapeFallbackIsReported() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try CLITests.run(["merge", Self.merge + "/ties.yml", "-o", directory + "/out.gguf", "--outtype", "Q4_K_M", "--report"])
        #expect(result.status == 0, "\(result.stderr)")
        let note = "rows of 64 are not a multiple of 256, required for Q4_K: fallback Q5_0"
        #expect(result.stderr.contains("blk.0.attn_k.weight Q5_0 (requant error") && result.stderr.contains(note), "\(result.stderr)")
        #expect(result.stdout.contains("shape fallbacks (as llama-quantize warns):\n") && result.stdout.contains("  blk.0.attn_k.weight: \(note)"))
        let model = try GGUFModel(path: directory + "/out.gguf")
        #expect(model.tensor(named: "blk.0.attn_k.weight")?.type == .q5_0)
    }

    /// An output type the run could not produce is refused by the dry run already: one whose recipe
    /// needs an importance matrix that was not given.
    @Test(arguments: [("IQ2_XXS", "--outtype IQ2_XXS: tensor blk.0.attn_q.weight would be IQ2_XXS, which needs an importance matrix"),
                      ("IQ1_S", "--outtype IQ1_S: tensor blk.0.attn_q.weight would be IQ1_S, which needs an importance matrix")])
    func unwritableOutputTypeIsRefusedUpFront(_ type: String, _ message: String) throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try InterruptionTests.writeModel(directory + "/x.gguf", seed: 1)
        let result = try CLITests.run(["merge", "--method", "linear", "--param", "weight=1", "x.gguf", "-o", "out.gguf",
                                       "--outtype", type, "--dry-run"], in: directory)
        #expect(result.status == 2 && result.stdout.isEmpty)
        #expect(result.stderr == "Error: \(message)\n", "\(result.stderr)")
    }

    /// The output's name, size label and stored config describe the output, not the base.
    @Test func outputMetadataDescribesTheMerge() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sliced = try CLITests.run(["merge", Self.merge + "/passthrough-slices.yml", "-o", directory + "/p.gguf", "-q"])
        #expect(sliced.status == 0, "\(sliced.stderr)")
        let model = try GGUFModel(path: directory + "/p.gguf")
        // a.gguf says 177K; gguf-py's size_label over this output's 41,280 weights says 41K.
        #expect(model.metadata["general.size_label"]?.string == "41K")
        #expect(model.metadata["general.name"]?.string == "A + B (passthrough)")

        let quick = try CLITests.run(["merge", "--method", "linear", "--param", "weight=0.5", Self.merge + "/a.gguf",
                                      Self.merge + "/b.gguf", "-o", directory + "/l.gguf", "--name", "My Merge", "-q"])
        #expect(quick.status == 0, "\(quick.stderr)")
        let linear = try GGUFModel(path: directory + "/l.gguf")
        #expect(linear.metadata["general.name"]?.string == "My Merge")
        let config = try #require(linear.metadata["ggufmerge.config"]?.string)
        #expect(config.contains("- model: \"a.gguf\"") && !config.contains(Self.merge), "\(config)")
    }

    /// llama.cpp's habits: `-t`, `-V`, `help <command>`.
    @Test func llamaCppHabits() throws {
        let version = try CLITests.run(["-V"])
        #expect(version.status == 0 && version.stdout.hasPrefix("ggufmerge "))
        let help = try CLITests.run(["help", "merge"])
        #expect(help.status == 0 && help.stdout.contains("-t, --threads <n>") && help.stdout.contains("-q, --quiet"))
        let badHelp = try CLITests.run(["help", "frobnicate"])
        #expect(badHelp.status == 2 && badHelp.stderr.hasPrefix("Error: unknown command 'frobnicate'"))
        let threads = try CLITests.run(["merge", Self.merge + "/ties.yml", "-t", "0", "--dry-run"])
        #expect(threads.status == 2 && threads.stderr.contains("--threads takes a whole number from 1 to 1024, not '0'"))
        let positional = try CLITests.run(["quantize", Self.merge + "/a.gguf", "/tmp/x.gguf", "Q8_0", "many"])
        #expect(positional.status == 2 && positional.stderr.contains("<threads> takes a whole number"))
    }
}
