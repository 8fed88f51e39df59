import Foundation
import GGUF
import Merge

/// `ggufmerge extract-lora BASE FINETUNE -o ADAPTER.gguf --rank R [--energy 0.9] [--seed N]`.
enum ExtractLoraCommand: Command {
    static let spec = CommandSpec(
        name: "extract-lora",
        abstract: "Extract a LoRA adapter (finetune − base, low rank) that llama.cpp and 'ggufmerge lora' load.",
        usage: "ggufmerge extract-lora <base.gguf> <finetune.gguf> -o <adapter.gguf> --rank <r> [--energy <f>] [--seed <n>]",
        arguments: [("<base.gguf>", "The model the adapter applies to (any readable type)."),
                    ("<finetune.gguf>", "The fine-tuned model of the same shape.")],
        options: [
            .init(names: ["-o", "--output"], valueName: "adapter.gguf", help: "The adapter to write."),
            .init(names: ["--rank"], valueName: "r", help: "Rank of every adapted weight (the maximum with --energy)."),
            .init(names: ["--energy"], valueName: "f", help: "Per weight, the smallest rank keeping this fraction of the delta's energy (0 < f ≤ 1)."),
            .init(names: ["--seed"], valueName: "n", help: "Seed of the randomized SVD (default 0)."),
            .init(names: ["--threads"], valueName: "n", help: "Threads (default: the core count); results do not depend on it."),
            .init(names: ["--force"], help: "Overwrite the output if it exists."),
            .init(names: ["-q", "--quiet"], help: "No per-tensor report."),
        ],
        discussion: """
            Every 2-D weight's delta is approximated by a randomized SVD (2 power iterations, deterministic
            for a seed); unchanged weights are skipped; changed 1-D tensors (norms, biases) are reported,
            since a LoRA cannot hold them.
            """)

    static func run(_ arguments: ParsedArguments) throws {
        guard arguments.positionals.count == 2 else {
            throw UsageError(command: spec, message: "expected <base.gguf> and <finetune.gguf>")
        }
        guard let output = arguments.value("--output") else { throw UsageError(command: spec, message: "missing -o <adapter.gguf>") }
        guard let rank = try arguments.integer("--rank", in: 1 ... 65536, command: spec) else {
            throw UsageError(command: spec, message: "missing --rank <r>")
        }
        var options = LoRAExtraction.Options(rank: rank)
        if let text = arguments.value("--energy") {
            guard let energy = Double(text), energy > 0, energy <= 1 else {
                throw UsageError(command: spec, message: "--energy takes a fraction in (0, 1], not '\(text)'")
            }
            options.energy = energy
        }
        options.seed = UInt64(try arguments.integer("--seed", in: 0 ... Int.max, command: spec) ?? 0)
        options.threads = try arguments.integer("--threads", in: 1 ... 1024, command: spec) ?? ProcessInfo.processInfo.activeProcessorCount
        var models: [GGUFModel] = []
        for path in arguments.positionals {
            do throws(GGUFError) { models.append(try GGUFModel(path: path)) } catch { throw MergeError.gguf(error, context: nil) }
        }
        do throws(GGUFError) {
            try OutputTarget(path: output, overwrite: arguments.flag("--force"))
                .check(byteCounts: [0], protecting: models.flatMap { (model: GGUFModel) in model.files.map { $0.path } })
        } catch {
            throw MergeError.gguf(error, context: nil)
        }
        let reports = try LoRAExtraction.run(base: models[0], finetune: models[1], to: output, options: options)
        if !arguments.flag("--quiet") { print(summary(reports, output: output), terminator: "") }
    }

    static func summary(_ reports: [LoRAExtraction.TensorReport], output: String) -> String {
        var out = ""
        var extracted = 0, unchanged = 0
        for report in reports {
            switch report.outcome {
            case let .extracted(rank, error):
                extracted += 1
                out += "  \(report.name): rank \(rank), relative error \(String(format: "%.2e", error))\n"
            case .unchanged:
                unchanged += 1
            case let .notAdaptable(change):
                out += "  \(report.name): changed by \(String(format: "%.2e", change)) (relative), not adaptable: the adapter leaves it out\n"
            }
        }
        return out + "wrote \(output): \(extracted) weight pairs; \(unchanged) tensors unchanged\n"
    }
}
