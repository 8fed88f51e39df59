import Foundation
import GGUF
import Testing

/// A run interrupted by SIGINT, SIGTERM or SIGHUP exits with 128 + the signal and leaves no file (nor a
/// multi-document merge's intermediates folder);
/// one killed by SIGKILL leaves a temporary file that the next run to the same output removes.
@Suite struct InterruptionTests {
    /// A one-layer llama model whose one tensor (2048 × 1024 F32, 8 MiB) takes seconds to merge and
    /// requantize in a debug build: long enough to be interrupted.
    static func writeModel(_ path: String, seed: UInt32) throws {
        var metadata = Metadata()
        metadata.set("general.architecture", .string("llama"))
        metadata.set("llama.block_count", .uint32(1))
        let shape = [2048, 1024]
        let writer = try GGUFWriter(path: path, metadata: metadata,
                                    tensors: [TensorDescriptor(name: "blk.0.attn_q.weight", shape: shape, type: .f32)])
        var state = seed
        let values = (0 ..< shape[0] * shape[1]).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(Int32(bitPattern: state)) / Float(Int32.max)
        }
        try values.withUnsafeBytes { try writer.append($0) }
        try writer.finish()
    }

    /// A LoRA adapter of rank 8 for `writeModel`'s tensor.
    static func writeAdapter(_ path: String) throws {
        var metadata = Metadata()
        metadata.set("general.architecture", .string("llama"))
        metadata.set("general.type", .string("adapter"))
        metadata.set("adapter.type", .string("lora"))
        metadata.set("adapter.lora.alpha", .float32(8))
        let a = TensorDescriptor(name: "blk.0.attn_q.weight.lora_a", shape: [2048, 8], type: .f32)
        let b = TensorDescriptor(name: "blk.0.attn_q.weight.lora_b", shape: [8, 1024], type: .f32)
        let writer = try GGUFWriter(path: path, metadata: metadata, tensors: [a, b])
        try [Float](repeating: 0.01, count: 2048 * 8).withUnsafeBytes { try writer.append($0) }
        try [Float](repeating: 0.02, count: 8 * 1024).withUnsafeBytes { try writer.append($0) }
        try writer.finish()
    }

    /// A directory with `x.gguf`, `y.gguf` and `adapter.gguf`.
    static func inputs() throws -> String {
        let directory = try CLITests.temporaryDirectory()
        try writeModel(directory + "/x.gguf", seed: 1)
        try writeModel(directory + "/y.gguf", seed: 2)
        try writeAdapter(directory + "/adapter.gguf")
        return directory
    }

    static let inputNames = ["adapter.gguf", "x.gguf", "y.gguf"]

    static let commands: [String: [String]] = [
        "merge": ["merge", "--method", "slerp", "--param", "t=0.3", "--base", "x.gguf", "x.gguf", "y.gguf",
                  "-o", "out.gguf", "--outtype", "Q6_K", "-q"],
        "merge-split": ["merge", "--method", "linear", "--param", "weight=0.5", "x.gguf", "y.gguf",
                        "-o", "out.gguf", "--outtype", "Q6_K", "--split-max-tensors", "1", "-q"],
        "lora": ["lora", "x.gguf", "adapter.gguf", "-o", "out.gguf", "--outtype", "Q6_K", "-q"],
        "quantize": ["quantize", "x.gguf", "out.gguf", "Q6_K", "-q"],
    ]

    /// Starts `command` in `directory` and returns once its temporary output file exists.
    static func start(_ command: String, in directory: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.tool)
        process.arguments = commands[command]!
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while try !FileManager.default.contentsOfDirectory(atPath: directory).contains(where: { $0.hasPrefix(".out") }) {
            guard process.isRunning, Date() < deadline else { break }
            usleep(2_000)
        }
        return process
    }

    @Test(arguments: [("merge", SIGINT), ("merge", SIGTERM), ("merge", SIGHUP), ("merge-split", SIGINT),
                      ("lora", SIGTERM), ("quantize", SIGINT)])
    func signalLeavesNoFile(_ command: String, _ signal: Int32) throws {
        let directory = try Self.inputs()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try Self.start(command, in: directory)
        #expect(process.isRunning, "the run ended before it could be interrupted")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + signal)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == Self.inputNames)
    }

    /// A multi-document merge interrupted while it writes an intermediate leaves neither the
    /// intermediate nor its temporary folder.
    @Test func signalDuringAnIntermediateLeavesNoFolder() throws {
        let directory = try Self.inputs()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let temporary = directory + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        let config = """
            name: mid
            merge_method: slerp
            base_model: x.gguf
            models:
              - model: x.gguf
              - model: y.gguf
            parameters: {t: 0.3}
            ---
            merge_method: linear
            models:
              - model: mid
                parameters: {weight: 0.5}
              - model: y.gguf
                parameters: {weight: 0.5}
            """
        try config.write(toFile: directory + "/mega.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.tool)
        process.arguments = ["merge", "mega.yml", "-o", "out.gguf", "-q"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": temporary]) { $1 }
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for the intermediate's temporary file inside the intermediates folder.
        let deadline = Date().addingTimeInterval(120)
        func writingIntermediate() throws -> Bool {
            try FileManager.default.contentsOfDirectory(atPath: temporary).contains { folder in
                ((try? FileManager.default.contentsOfDirectory(atPath: temporary + "/" + folder)) ?? []).contains { $0.hasPrefix(".mid") }
            }
        }
        while try !writingIntermediate(), process.isRunning, Date() < deadline { usleep(2_000) }
        #expect(process.isRunning, "the run ended before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + SIGINT)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == (Self.inputNames + ["mega.yml", "tmp"]).sorted())
    }

    @Test func killedRunsLeftoverIsRemovedByTheNextRun() throws {
        let directory = try Self.inputs()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try Self.start("quantize", in: directory)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let leftover = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasPrefix(".out.gguf.tmp-") })

        let result = try CLITests.run(["quantize", "x.gguf", "out.gguf", "Q8_0", "-q"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("removed \(leftover), left by an interrupted run"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == (Self.inputNames + ["out.gguf"]).sorted())
    }
}
