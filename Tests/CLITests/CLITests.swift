import Foundation
import GGUF
import Testing

/// The `ggufmerge` binary as a user runs it: exit codes, one-line errors, nothing left behind.
@Suite struct CLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let merge = root.appendingPathComponent("Fixtures/merge").path

    /// The binary next to the test bundle (SwiftPM builds the executable the test target depends on).
    static var tool: String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("ggufmerge").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return root.appendingPathComponent(".build/debug/ggufmerge").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the tool with `arguments` (or, with `shell`, the program `arguments[0]` with the rest).
    static func run(_ arguments: [String], in directory: String? = nil, shell: Bool = false) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shell ? arguments[0] : tool)
        process.arguments = shell ? Array(arguments.dropFirst()) : arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ggufmerge-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `yaml` as a config beside copies of nothing: model paths point into Fixtures/merge.
    static func config(_ yaml: String, in directory: String) throws -> String {
        let path = directory + "/config.yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func helpAndUsage() throws {
        let help = try Self.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE:") && help.stdout.contains("merge"))
        let mergeHelp = try Self.run(["merge", "--help"])
        #expect(mergeHelp.status == 0 && mergeHelp.stdout.contains("--outtype"))
        let unknown = try Self.run(["frobnicate"])
        #expect(unknown.status == 2 && unknown.stderr.hasPrefix("Error: unknown command 'frobnicate'"))
        let badOption = try Self.run(["inspect", "--bogus", "x.gguf"])
        #expect(badOption.status == 2 && badOption.stderr.contains("unknown option '--bogus'"))
    }

    @Test func inspectJSONDescribesTheFile() throws {
        let result = try Self.run(["inspect", "--json", Self.merge + "/a.gguf"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["version"] as? Int == 3)
        let metadata = try #require(json["metadata"] as? [String: Any])
        #expect(metadata["general.architecture"] as? String == "llama")
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        let model = try GGUFModel(path: Self.merge + "/a.gguf")
        #expect(tensors.map { $0["name"] as? String } == model.tensors.map(\.name))
        #expect(tensors.first?["type"] as? String == "F32")
    }

    /// Each bad input: exit code, a one-line message naming the file and the problem, no output.
    @Test(arguments: [
        ("models:\n  - model: a.gguf\n    parameters: {weight: 1\nmerge_method: linear\n", 2, "config.yml:3"),
        ("models:\n  - model: \(merge)/a.gguf\nmerge_method: frankenmerge\n", 2, "unknown merge_method 'frankenmerge'"),
        ("models:\n  - model: missing.gguf\n    parameters: {weight: 1}\nmerge_method: ties\nbase_model: \(merge)/base.gguf\n", 2, "missing.gguf"),
        ("models:\n  - model: \(merge)/a.gguf\n    parameters: {weight: abc, density: 0.5}\nmerge_method: ties\nbase_model: \(merge)/base.gguf\n", 2, "weight"),
        ("models:\n  - model: \(merge)/a.gguf\n    parameters: {weight: 1}\n  - model: \(root.path)/Fixtures/lora/base-f32.gguf\n    parameters: {weight: 1}\nmerge_method: task_arithmetic\nbase_model: \(merge)/base.gguf\n", 2, "layers"),
        ("models:\n  - model: meta-llama/Llama-3.2-1B\nmerge_method: task_arithmetic\n", 2, "local GGUF"),
    ])
    func badInputsFailCleanly(_ yaml: String, status: Int32, message: String) throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/out.gguf"
        let result = try Self.run(["merge", try Self.config(yaml, in: directory), "-o", output])
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count <= 3, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["config.yml"])
    }

    @Test func refusesToOverwriteAnInput() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/a.gguf"
        try FileManager.default.copyItem(atPath: Self.merge + "/a.gguf", toPath: input)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let result = try Self.run(["merge", "--method", "ties", "--param", "density=0.5", "--param", "weight=1",
                                   "--base", Self.merge + "/base.gguf", input, "-o", input, "--force"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("a.gguf"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["a.gguf"])
    }

    @Test func dryRunPrintsThePlanAndWritesNothing() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.run(["merge", Self.merge + "/ties-gradient.yml", "-o", directory + "/out.gguf", "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        // ties-gradient: model a's density [1, 0.7, 0.1] over 3 layers gives 0.7 at layer 1.
        #expect(result.stdout.contains("blk.1.attn_k.weight"))
        #expect(result.stdout.split(separator: "\n").contains { $0.contains("blk.1.attn_k.weight") && $0.contains("density=0.7") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func quickFormMergesAndReports() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/ties.gguf"
        let result = try Self.run(["merge", "--method", "ties", "--param", "density=0.5", "--param", "weight=1",
                                   "--base", Self.merge + "/base.gguf", Self.merge + "/a.gguf", Self.merge + "/b.gguf",
                                   "-o", output, "--outtype", "Q8_0", "--report", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("requantization error"))
        #expect(result.stderr.isEmpty, "--quiet prints no progress: \(result.stderr)")
        let model = try GGUFModel(path: output)
        #expect(model.tensor(named: "blk.0.attn_k.weight")?.type == .q8_0)
        #expect(model.tensor(named: "blk.0.attn_norm.weight")?.type == .f32)
    }

    /// Split output, as llama-gguf-split names it, read back as one model.
    @Test func splitOutputReadsBackAsOneModel() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.run(["merge", Self.merge + "/ties.yml", "-o", directory + "/ties.gguf",
                                   "--split-max-tensors", "4", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let shards = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(shards == ["ties-00001-of-00003.gguf", "ties-00002-of-00003.gguf", "ties-00003-of-00003.gguf"])
        let model = try GGUFModel(path: directory + "/ties-00001-of-00003.gguf")
        #expect(model.tensors.count == 10)
        #expect(model.metadata["general.architecture"]?.string == "llama")
    }

    /// `--imatrix`: an entry that does not fit a tensor is refused before any output exists; the
    /// entries used and the file (as given) are recorded as llama-quantize records them.
    @Test func quantizeWithAnImportanceMatrix() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: Self.root.path + "/Fixtures/imatrix/tiny-imatrix.dat", toPath: directory + "/m.dat")
        let input = Self.merge + "/base.gguf"
        // tiny-imatrix's entries have 256 columns; base.gguf's blk.0.attn_k.weight has 64.
        let misfit = try Self.run(["quantize", input, "out.gguf", "Q4_0", "--imatrix", "m.dat"], in: directory)
        #expect(misfit.status == 2)
        #expect(misfit.stderr.contains("m.dat: importance matrix entry blk.0.attn_k.weight has 256 values, the tensor needs 64"), "\(misfit.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["m.dat"])

        let both = try Self.run(["quantize", input, "out.gguf", "Q4_0", "--imatrix", "m.dat", "--include-weights", "a",
                                 "--exclude-weights", "b"], in: directory)
        #expect(both.status == 2)

        let result = try Self.run(["quantize", input, "out.gguf", "Q4_0", "--imatrix", "m.dat", "--include-weights", "output",
                                   "--quiet"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let model = try GGUFModel(path: directory + "/out.gguf")
        #expect(Array(model.metadata.keys.suffix(3)) == ["quantize.imatrix.file", "quantize.imatrix.dataset", "quantize.imatrix.entries_count"])
        #expect(model.metadata["quantize.imatrix.file"] == .string("m.dat"))
        #expect(model.metadata["quantize.imatrix.entries_count"] == .uint32(3))
    }
}

/// `check` and the warnings `merge` prints from it (Fixtures/check: tiny converted Llamas).
@Suite struct CheckCLITests {
    static let check = CLITests.root.appendingPathComponent("Fixtures/check").path

    @Test func checkPrintsATableAndJSON() throws {
        let table = try CLITests.run(["check", "--base", Self.check + "/base.gguf", Self.check + "/ft-small.gguf", Self.check + "/unrelated.gguf"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("same initialization") && table.stdout.contains("unrelated"))
        let json = try CLITests.run(["check", "--json", "--base", Self.check + "/base.gguf", Self.check + "/ft-small.gguf"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let models = try #require(object["models"] as? [[String: Any]])
        // Float (F16) files: no rounding noise worth the name, a ratio far above any warning.
        #expect((models[1]["task_vector_noise_ratio"] as? Double ?? 0) > 1e4)
        let incompatible = try CLITests.run(["check", Self.check + "/base.gguf", CLITests.merge + "/base.gguf"])
        #expect(incompatible.status == 1 && incompatible.stdout.contains("llama.block_count"))
        let missing = try CLITests.run(["check", Self.check + "/base.gguf", Self.check + "/nope.gguf"])
        #expect(missing.status != 0 && missing.stderr.contains("nope.gguf") && missing.stderr.split(separator: "\n").count <= 2)
    }

    /// A TIES merge of 4-bit files whose task vectors are small warns; the same merge of their Q8_0
    /// files does not (issue 18).
    @Test func quantizedTaskVectorMergeWarnsAboutNoise() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var stderr: [String: String] = [:]
        for type in ["Q4_K_M", "Q8_0"] {
            for name in ["base", "ft-small"] {
                let quantized = try CLITests.run(["quantize", Self.check + "/\(name).gguf", directory + "/\(name)-\(type).gguf", type])
                #expect(quantized.status == 0, "\(quantized.stderr)")
            }
            let merged = try CLITests.run(["merge", "--method", "ties", "--param", "density=0.5", "--param", "weight=1",
                                           "--base", directory + "/base-\(type).gguf", directory + "/ft-small-\(type).gguf",
                                           "--dry-run"])
            #expect(merged.status == 0, "\(merged.stderr)")
            stderr[type] = merged.stderr
        }
        #expect(stderr["Q4_K_M"]!.contains("Warning:") && stderr["Q4_K_M"]!.contains("rounding noise")
                && stderr["Q4_K_M"]!.contains("Q8_0/F16"), "\(stderr["Q4_K_M"]!)")
        #expect(!stderr["Q8_0"]!.contains("Warning:"), "\(stderr["Q8_0"]!)")
    }

    @Test func mergeWarnsAboutUnrelatedModels() throws {
        let merged = try CLITests.run(["merge", "--method", "linear", "--param", "weight=1", Self.check + "/base.gguf", Self.check + "/unrelated.gguf", "--dry-run"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stderr.contains("Warning:") && merged.stderr.contains("unrelated"))
    }

    @Test func extractLoraWritesAnAdapterThatLoraApplies() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lora = CLITests.root.appendingPathComponent("Fixtures/lora").path
        let result = try CLITests.run(["extract-lora", lora + "/base-f32.gguf", lora + "/expected-apply-x.gguf",
                                       "-o", directory + "/x.gguf", "--rank", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("6 weight pairs"))
        let applied = try CLITests.run(["lora", lora + "/base-f32.gguf", directory + "/x.gguf", "-o", directory + "/applied.gguf", "--quiet"])
        #expect(applied.status == 0, "\(applied.stderr)")
        let usage = try CLITests.run(["extract-lora", lora + "/base-f32.gguf", "-o", directory + "/y.gguf"])
        #expect(usage.status == 2)
    }
}
