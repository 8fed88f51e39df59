import Foundation
import GGUF
import Merge
import Quant

/// `ggufmerge merge CONFIG.yml -o OUT.gguf` (mergekit configs, unchanged but for model paths), or the
/// quick form `ggufmerge merge --method M --param k=v [--base B] MODEL… -o OUT.gguf`.
enum MergeCommand: Command {
    static let spec = CommandSpec(
        name: "merge",
        abstract: "Merge GGUF models with a mergekit YAML config (or a method and models on the command line).",
        usage: "ggufmerge merge <config.yml> -o <out.gguf> [options]\n       ggufmerge merge --method <name> [--param k=v]... [--base <model>] <model>... -o <out.gguf>",
        arguments: [("<config.yml>", "A mergekit config; `model:` values are .gguf paths relative to it."),
                    ("<model>", "With --method: the models to merge (.gguf, or base.gguf+adapter.gguf).")],
        options: [
            .init(names: ["-o", "--output"], valueName: "out.gguf", help: "The merged model to write."),
            .init(names: ["--outtype"], valueName: "type", help: "Output type: a llama-quantize file type (Q4_K_M, Q8_0, F16, …); default: each tensor's type in the base model."),
            recipeOptionSpec,
            .init(names: ["--imatrix"], valueName: "file", help: "Importance matrix for --outtype (usually the base's; default: the config's `imatrix:`)."),
            .init(names: ["--include-weights"], valueName: "name", help: "Use only the imatrix entries whose name contains <name> (repeatable).", repeatable: true),
            .init(names: ["--exclude-weights"], valueName: "name", help: "Drop the imatrix entries whose name contains <name> (repeatable).", repeatable: true),
            .init(names: ["-t", "--threads"], valueName: "n", help: "Threads (default: the core count)."),
            .init(names: ["--seed"], valueName: "n", help: "Seed for DARE/DELLA (default 0); results do not depend on --threads."),
            .init(names: ["--dry-run"], help: "Print the per-tensor plan and the output size; write nothing."),
            .init(names: ["--report"], help: "After merging, list the tensors whose requantization added the most error."),
            .init(names: ["--force"], help: "Overwrite the output if it exists."),
            .init(names: ["-q", "--quiet"], help: "No progress output."),
            .init(names: ["--split-max-size"], valueName: "size", help: "Write shards of at most this size (e.g. 2G, 500M), as llama-gguf-split."),
            .init(names: ["--split-max-tensors"], valueName: "n", help: "Write shards of at most n tensors."),
            .init(names: ["--name"], valueName: "name", help: "The output's general.name (default: the config's `name`)."),
            .init(names: ["--method"], valueName: "name", help: "Quick form: the merge method (linear, slerp, ties, dare_ties, …)."),
            .init(names: ["--param"], valueName: "k=v", help: "Quick form: a method parameter (repeatable), e.g. t=0.5, density=0.5.", repeatable: true),
            .init(names: ["--base"], valueName: "model", help: "Quick form: the base model."),
            .init(names: ["--keep-intermediates"], help: "Multi-document configs: keep the named documents' merges (written to a temporary folder, removed by default)."),
        ])

    static func run(_ arguments: ParsedArguments) throws {
        if arguments.value("--method") != nil {
            let quick = try quickConfig(arguments)
            try quick.run { config in try execute(config, configText: quick.yaml, arguments: arguments, spec: spec) }
        } else {
            guard arguments.positionals.count == 1 else {
                throw UsageError(command: spec, message: arguments.positionals.isEmpty ? "missing <config.yml> (or --method)" : "expected one config file; to list models use --method")
            }
            let path = arguments.positionals[0]
            let documents = try MultiDocumentMerge.load(path: path)
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if documents.documents.count > 1 {
                return try runDocuments(documents, configText: text, arguments: arguments)
            }
            noteIgnoredOutPath(documents.documents[0])
            try execute(documents.documents[0], configText: text, arguments: arguments, spec: spec)
        }
    }

    /// Plans and runs `config` with the shared merge options (also used by `lora`).
    static func execute(_ config: MergeConfig, configText: String, arguments: ParsedArguments, spec: CommandSpec) throws {
        let dryRun = arguments.flag("--dry-run")
        let output = arguments.value("--output")
        guard output != nil || dryRun else { throw UsageError(command: spec, message: "missing -o <out.gguf>") }
        var options = MergeOptions(outputName: arguments.value("--name"), configText: configText)
        options.recipe = try recipeOption(arguments, command: spec)
        if let name = arguments.value("--outtype") {
            guard let type = OutputType(name: name) else {
                throw UsageError(command: spec, message: "--outtype: unknown type '\(name)' (e.g. Q4_K_M, Q8_0, F16, F32)")
            }
            options.outputType = type
        }
        options.importance = try QuantizeCommand.importanceMatrix(arguments, spec: spec)
        let threads = try arguments.integer("--threads", in: 1 ... 1024, command: spec) ?? ProcessInfo.processInfo.activeProcessorCount
        let seed = try arguments.integer("--seed", in: 0 ... Int.max, command: spec) ?? 0
        let split = try splitPolicy(arguments, spec: spec)
        let target = output.map { OutputTarget(path: $0, split: split, overwrite: arguments.flag("--force")) }
        options.output = target

        let plan = try MergePlan.build(config, options: options)
        for warning in try plan.inputWarnings(threads: threads) {
            FileHandle.standardError.write(Data("Warning: \(warning)\n".utf8))
        }
        guard let target, !dryRun else {
            print(describe(plan), terminator: "")
            return
        }
        let progress = ProgressPrinter(plan: plan, quiet: arguments.flag("--quiet"))
        removeLeftovers(of: target)
        try MergeEngine(threads: threads, seed: UInt64(seed)).run(plan, to: target.path, split: split, progress: progress.update)
        progress.finish(output: target.path)
        if arguments.flag("--report") { print(progress.report() + plan.promotionSummary, terminator: "") }
    }

    /// The `--dry-run` listing: per tensor, the operation, resolved parameters and types.
    static func describe(_ plan: MergePlan) -> String {
        var text = "method: \(plan.methodName ?? "none")\ninputs:\n"
        for (index, input) in plan.inputs.enumerated() {
            text += "  [\(index)] \(input.label)\(input.adapter.map { " (LoRA \($0.path), scale \($0.scale))" } ?? "")\n"
        }
        text += "tensors:\n"
        for job in plan.jobs {
            let shape = "[" + job.shape.map(String.init).joined(separator: ", ") + "]"
            let from = job.sources.map { "\($0.tensor.type.name)" }.joined(separator: "+")
            switch job.operation {
            case let .copy(source):
                text += "  \(job.name) \(shape): copy [\(source.input)] \(source.tensor.name)  \(from) → \(job.outputType.name)\n"
            case let .merge(sources, baseIndex, parameters, modelParameters, _):
                let global = parameters.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                // The base's per-model values are only defaults the method never reads: not shown.
                let perModel = zip(sources, modelParameters).enumerated().map { index, pair in
                    if index == baseIndex { return "[\(pair.0.input) base]" }
                    let values = pair.1.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                    return "[\(pair.0.input)]" + (values.isEmpty ? "" : " \(values)")
                }.joined(separator: ", ")
                text += "  \(job.name) \(shape): \(global.isEmpty ? "" : global + "; ")\(perModel)  \(from) → \(job.outputType.name)\n"
            }
        }
        text += plan.promotionSummary
        text += "output: \(plan.jobs.count) tensors, \(byteText(plan.outputTensorBytes)) of tensor data\n"
        return text
    }

    static func splitPolicy(_ arguments: ParsedArguments, spec: CommandSpec) throws(UsageError) -> SplitPolicy? {
        if let tensors = try arguments.integer("--split-max-tensors", in: 1 ... 1_000_000, command: spec) {
            return .maxTensors(tensors)
        }
        guard let text = arguments.value("--split-max-size") else { return nil }
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = text.uppercased()
        var scale = 1
        if let last = digits.last, let unit = units[last] { scale = unit; digits.removeLast() }
        guard let value = Double(digits), value > 0 else {
            throw UsageError(command: spec, message: "--split-max-size: expected a size like 2G or 500M, not '\(text)'")
        }
        return .maxBytes(Int(value * Double(scale)))
    }

    /// The quick form as a mergekit config: models listed, `--param` values as global parameters
    /// (mergekit falls back to them for per-model parameters such as `weight` and `density`).
    static func quickConfig(_ arguments: ParsedArguments) throws(UsageError) -> QuickConfig {
        guard !arguments.positionals.isEmpty else { throw UsageError(command: spec, message: "--method needs the models to merge") }
        let method = arguments.value("--method")!
        var quick = QuickConfig()
        quick.add("merge_method: \(quoted(method))", from: "--method \(method)")
        if let base = arguments.value("--base") { quick.add("base_model: \(quoted(base))", from: "--base \(base)") }
        quick.add("models:", from: nil)
        for model in arguments.positionals { quick.add("  - model: \(quoted(model))", from: "<model> \(model)") }
        try quick.addParameters(arguments.all("--param"), spec: spec)
        return quick
    }
}
