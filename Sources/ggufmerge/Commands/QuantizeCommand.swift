import Foundation
import GGUF
import Merge
import Quant

/// `ggufmerge quantize IN OUT TYPE`: llama-quantize's file types, byte-identical output.
enum QuantizeCommand: Command {
    static let spec = CommandSpec(
        name: "quantize",
        abstract: "Quantize a GGUF model like llama-quantize (byte-identical output).",
        usage: "ggufmerge quantize <input> <output> <type> [--threads N] [--pure] [--allow-requantize]",
        arguments: [("<input>", "A .gguf model (or the first shard of a split model)."),
                    ("<output>", "The .gguf file to write."),
                    ("<type>", "A llama-quantize file type: \(offeredTypes.joined(separator: ", ")).")],
        options: [
            .init(names: ["--threads"], valueName: "n", help: "Threads (default: the core count)."),
            .init(names: ["--pure"], help: "Every quantizable tensor in <type>'s base type: no per-tensor mix."),
            .init(names: ["--allow-requantize"], help: "Re-encode tensors that are already quantized."),
            .init(names: ["--output-tensor-type"], valueName: "type", help: "Type of output.weight (e.g. Q8_0)."),
            .init(names: ["--token-embedding-type"], valueName: "type", help: "Type of token_embd.weight."),
            .init(names: ["--leave-output-tensor"], help: "Keep output.weight unquantized."),
            recipeOptionSpec,
            .init(names: ["--quiet"], help: "No progress output."),
            .init(names: ["--force"], help: "Overwrite <output> if it exists."),
        ])

    static var offeredTypes: [String] {
        ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
         "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0"]
    }

    static func run(_ arguments: ParsedArguments) throws {
        guard arguments.positionals.count == 3 else {
            throw UsageError(command: spec, message: "expected <input> <output> <type>, got \(arguments.positionals.count) arguments")
        }
        let (inputPath, outputPath, typeName) = (arguments.positionals[0], arguments.positionals[1], arguments.positionals[2])
        guard let fileType = FileType(name: typeName), offeredTypes.contains(fileType.name) else {
            throw UsageError(command: spec, message: "unknown or unsupported type '\(typeName)' (one of: \(offeredTypes.joined(separator: ", ")))")
        }
        let threads = try arguments.integer("--threads", in: 1 ... 1024, command: spec) ?? ProcessInfo.processInfo.activeProcessorCount
        var options = QuantizationOptions(pure: arguments.flag("--pure"), leaveOutputTensor: arguments.flag("--leave-output-tensor"))
        options.outputTensorType = try typeOption("--output-tensor-type", arguments)
        options.tokenEmbeddingType = try typeOption("--token-embedding-type", arguments)
        try refuseExisting(outputPath, force: arguments.flag("--force"))
        let input = InputModel(label: inputPath, model: try GGUFModel(path: inputPath))
        let plan = try MergePlan.quantize(input, fileType: fileType, options: options,
                                          allowRequantize: arguments.flag("--allow-requantize"),
                                          recipe: try recipeOption(arguments, command: spec))
        let progress = ProgressPrinter(plan: plan, quiet: arguments.flag("--quiet"))
        try MergeEngine(threads: threads).run(plan, to: outputPath, progress: progress.update)
        progress.finish(output: outputPath)
        if !arguments.flag("--quiet") { FileHandle.standardError.write(Data(plan.promotionSummary.utf8)) }
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

/// Refuses to replace an existing output unless `--force` is given.
func refuseExisting(_ path: String, force: Bool) throws(UsageError) {
    if !force, FileManager.default.fileExists(atPath: path) {
        throw UsageError(command: nil, message: "\(path) exists; pass --force to overwrite it")
    }
}
