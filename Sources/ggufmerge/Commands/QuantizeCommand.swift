import Foundation
import GGUF
import Merge
import Quant

/// `ggufmerge quantize IN OUT TYPE`: llama-quantize's file types, byte-identical output.
enum QuantizeCommand: Command {
    static let spec = CommandSpec(
        name: "quantize",
        abstract: "Quantize a GGUF model like llama-quantize (byte-identical output).",
        usage: "ggufmerge quantize <input> <output> <type> [<threads>] [-t N] [--imatrix <file>] [--pure] [--allow-requantize]",
        arguments: [("<input>", "A .gguf model (or the first shard of a split model)."),
                    ("<output>", "The .gguf file to write."),
                    ("<type>", "A llama-quantize file type: \(offeredTypes.joined(separator: ", "))."),
                    ("<threads>", "Threads, as llama-quantize's last argument (same as -t).")],
        options: [
            .init(names: ["--imatrix"], valueName: "file",
                  help: "Importance matrix (llama-imatrix's .gguf or legacy .dat), used as llama-quantize --imatrix does."),
            .init(names: ["--include-weights"], valueName: "name",
                  help: "Use only the imatrix entries whose name contains <name> (repeatable).", repeatable: true),
            .init(names: ["--exclude-weights"], valueName: "name",
                  help: "Drop the imatrix entries whose name contains <name> (repeatable).", repeatable: true),
            .init(names: ["-t", "--threads"], valueName: "n", help: "Threads (default: the core count)."),
            .init(names: ["--pure"], help: "Every quantizable tensor in <type>'s base type: no per-tensor mix."),
            .init(names: ["--allow-requantize"], help: "Re-encode tensors that are already quantized."),
            .init(names: ["--output-tensor-type"], valueName: "type", help: "Type of output.weight (e.g. Q8_0)."),
            .init(names: ["--token-embedding-type"], valueName: "type", help: "Type of token_embd.weight."),
            .init(names: ["--leave-output-tensor"], help: "Keep output.weight unquantized."),
            recipeOptionSpec,
            .init(names: ["-q", "--quiet"], help: "No progress output."),
            .init(names: ["--force"], help: "Overwrite <output> if it exists."),
        ])

    /// The file types whose base type this build can write (IQ types as their codecs arrive; a mixture
    /// type it cannot write is reported when the plan is built).
    static var offeredTypes: [String] {
        FileType.allCases.filter { $0.isOfferedByLlamaQuantize && Codecs.canQuantize($0.baseType) }.map(\.name)
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
        let importance = try importanceMatrix(arguments, spec: spec)
        let target = OutputTarget(path: outputPath, overwrite: arguments.flag("--force"))
        let plan = try MergePlan.quantize(try InputModel.open(path: inputPath), fileType: fileType, options: options,
                                          allowRequantize: arguments.flag("--allow-requantize"), importance: importance,
                                          recipe: try recipeOption(arguments, command: spec), output: target)
        let progress = ProgressPrinter(plan: plan, quiet: arguments.flag("--quiet"))
        removeLeftovers(of: target)
        try MergeEngine(threads: threads).run(plan, to: outputPath, progress: progress.update)
        progress.finish(output: outputPath)
        if !arguments.flag("--quiet") { FileHandle.standardError.write(Data(plan.promotionSummary.utf8)) }
    }

    /// `--imatrix`, filtered by `--include-weights` / `--exclude-weights` (which llama-quantize does not
    /// allow together).
    static func importanceMatrix(_ arguments: ParsedArguments, spec: CommandSpec = spec) throws -> ImportanceMatrix? {
        let including = arguments.all("--include-weights"), excluding = arguments.all("--exclude-weights")
        guard let path = arguments.value("--imatrix") else {
            if !including.isEmpty || !excluding.isEmpty {
                throw UsageError(command: spec, message: "--include-weights and --exclude-weights need --imatrix")
            }
            return nil
        }
        if !including.isEmpty && !excluding.isEmpty {
            throw UsageError(command: spec, message: "--include-weights and --exclude-weights cannot be combined")
        }
        do {
            return try ImportanceMatrix(path: path).filtered(including: including, excluding: excluding)
        } catch {
            throw MergeError.importanceMatrix(error)
        }
    }

    static func typeOption(_ name: String, _ arguments: ParsedArguments) throws(UsageError) -> GGMLType? {
        guard let text = arguments.value(name) else { return nil }
        guard let type = GGMLType(name: text), Codecs.canQuantize(type) else {
            throw UsageError(command: spec, message: "\(name): unknown or unsupported tensor type '\(text)'")
        }
        return type
    }
}

/// `--recipe auto|promoted|llama` (merge, lora, quantize).
let recipeOptionSpec = CommandSpec.Option(names: ["--recipe"], valueName: "auto|promoted|llama",
                                  help: "llama: llama-quantize's per-tensor types exactly. auto (default): attn_v/ffn_down one step up when requantizing ≤ 5-bit inputs. promoted: always.")

func recipeOption(_ arguments: ParsedArguments, command: CommandSpec) throws(UsageError) -> RecipeChoice {
    guard let text = arguments.value("--recipe") else { return .auto }
    guard let choice = RecipeChoice(rawValue: text) else {
        throw UsageError(command: command, message: "--recipe: expected auto, promoted or llama, got '\(text)'")
    }
    return choice
}

/// Deletes the temporary files that killed runs to the same output left behind, and says so.
func removeLeftovers(of target: OutputTarget) {
    for path in target.removeLeftovers() {
        FileHandle.standardError.write(Data("note: removed \(path), left by an interrupted run\n".utf8))
    }
}
