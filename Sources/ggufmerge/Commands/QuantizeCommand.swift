import Foundation
import GGUF
import Merge
import Quant

/// `ggufmerge quantize IN OUT TYPE`: llama-quantize's file types, byte-identical output.
enum QuantizeCommand: Command {
    static let spec = CommandSpec(
        name: "quantize",
        abstract: "Quantize a GGUF model like llama-quantize (byte-identical output).",
        usage: "ggufmerge quantize <input> <output> <type> [<threads>] [-t N] [--pure] [--allow-requantize]",
        arguments: [("<input>", "A .gguf model (or the first shard of a split model)."),
                    ("<output>", "The .gguf file to write."),
                    ("<type>", "A llama-quantize file type: \(offeredTypes.joined(separator: ", "))."),
                    ("<threads>", "Threads, as llama-quantize's last argument (same as -t).")],
        options: [
            .init(names: ["-t", "--threads"], valueName: "n", help: "Threads (default: the core count)."),
            .init(names: ["--pure"], help: "Every quantizable tensor in <type>'s base type: no per-tensor mix."),
            .init(names: ["--allow-requantize"], help: "Re-encode tensors that are already quantized."),
            .init(names: ["--output-tensor-type"], valueName: "type", help: "Type of output.weight (e.g. Q8_0)."),
            .init(names: ["--token-embedding-type"], valueName: "type", help: "Type of token_embd.weight."),
            .init(names: ["--leave-output-tensor"], help: "Keep output.weight unquantized."),
            .init(names: ["-q", "--quiet"], help: "No progress output."),
            .init(names: ["--force"], help: "Overwrite <output> if it exists."),
        ])

    static var offeredTypes: [String] {
        ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
         "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0"]
    }

    static func run(_ arguments: ParsedArguments) throws {
        guard arguments.positionals.count == 3 || arguments.positionals.count == 4 else {
            throw UsageError(command: spec, message: "expected <input> <output> <type> [<threads>], got \(arguments.positionals.count) arguments")
        }
        let (inputPath, outputPath, typeName) = (arguments.positionals[0], arguments.positionals[1], arguments.positionals[2])
        guard let fileType = FileType(name: typeName), offeredTypes.contains(fileType.name) else {
            throw UsageError(command: spec, message: "unknown or unsupported type '\(typeName)' (one of: \(offeredTypes.joined(separator: ", ")))")
        }
        var threads = try arguments.integer("--threads", in: 1 ... 1024, command: spec) ?? ProcessInfo.processInfo.activeProcessorCount
        if arguments.positionals.count == 4 {
            guard let count = Int(arguments.positionals[3]), (1 ... 1024).contains(count) else {
                throw UsageError(command: spec, message: "<threads> takes a whole number from 1 to 1024, not '\(arguments.positionals[3])'")
            }
            threads = count
        }
        var options = QuantizationOptions(pure: arguments.flag("--pure"), leaveOutputTensor: arguments.flag("--leave-output-tensor"))
        options.outputTensorType = try typeOption("--output-tensor-type", arguments)
        options.tokenEmbeddingType = try typeOption("--token-embedding-type", arguments)
        let target = OutputTarget(path: outputPath, overwrite: arguments.flag("--force"))
        let plan = try MergePlan.quantize(try InputModel.open(path: inputPath), fileType: fileType, options: options,
                                          allowRequantize: arguments.flag("--allow-requantize"), output: target)
        let progress = ProgressPrinter(plan: plan, quiet: arguments.flag("--quiet"))
        removeLeftovers(of: target)
        try MergeEngine(threads: threads).run(plan, to: outputPath, progress: progress.update)
        progress.finish(output: outputPath)
    }

    static func typeOption(_ name: String, _ arguments: ParsedArguments) throws(UsageError) -> GGMLType? {
        guard let text = arguments.value(name) else { return nil }
        guard let type = GGMLType(name: text), Codecs.canQuantize(type) else {
            throw UsageError(command: spec, message: "\(name): unknown or unsupported tensor type '\(text)'")
        }
        return type
    }
}

/// Deletes the temporary files that killed runs to the same output left behind, and says so.
func removeLeftovers(of target: OutputTarget) {
    for path in target.removeLeftovers() {
        FileHandle.standardError.write(Data("note: removed \(path), left by an interrupted run\n".utf8))
    }
}
