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
            .init(names: ["--threads"], valueName: "n", help: "Threads (default: the core count)."),
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
        ])

    static func run(_ arguments: ParsedArguments) throws {
        let config: MergeConfig
        let text: String
        if arguments.value("--method") != nil {
            text = try quickConfig(arguments)
            config = try MergeConfig.parse(text, file: "<command line>", directory: FileManager.default.currentDirectoryPath)
        } else {
            guard arguments.positionals.count == 1 else {
                throw UsageError(command: spec, message: arguments.positionals.isEmpty ? "missing <config.yml> (or --method)" : "expected one config file; to list models use --method")
            }
            let path = arguments.positionals[0]
            config = try MergeConfig.load(path: path)
            text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        try execute(config, configText: text, arguments: arguments, spec: spec)
    }

    /// Plans and runs `config` with the shared merge options (also used by `lora`).
    static func execute(_ config: MergeConfig, configText: String, arguments: ParsedArguments, spec: CommandSpec) throws {
        let dryRun = arguments.flag("--dry-run")
        guard let output = arguments.value("--output") ?? (dryRun ? "" : nil) else {
            throw UsageError(command: spec, message: "missing -o <out.gguf>")
        }
        var options = MergeOptions(outputName: arguments.value("--name"), configText: configText)
        if let name = arguments.value("--outtype") {
            guard let type = OutputType(name: name) else {
                throw UsageError(command: spec, message: "--outtype: unknown type '\(name)' (e.g. Q4_K_M, Q8_0, F16, F32)")
            }
            options.outputType = type
        }
        let threads = try arguments.integer("--threads", in: 1 ... 1024, command: spec) ?? ProcessInfo.processInfo.activeProcessorCount
        let seed = try arguments.integer("--seed", in: 0 ... Int.max, command: spec) ?? 0
        let split = try splitPolicy(arguments, spec: spec)
        if !dryRun { try refuseExisting(output, force: arguments.flag("--force")) }

        let plan = try MergePlan.build(config, options: options)
        if dryRun {
            print(describe(plan), terminator: "")
            return
        }
        let progress = ProgressPrinter(plan: plan, quiet: arguments.flag("--quiet"))
        try MergeEngine(threads: threads, seed: UInt64(seed)).run(plan, to: output, split: split, progress: progress.update)
        progress.finish(output: output)
        if arguments.flag("--report") { print(progress.report(), terminator: "") }
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
    static func quickConfig(_ arguments: ParsedArguments) throws(UsageError) -> String {
        guard !arguments.positionals.isEmpty else { throw UsageError(command: spec, message: "--method needs the models to merge") }
        var yaml = "merge_method: \(quoted(arguments.value("--method")!))\n"
        if let base = arguments.value("--base") { yaml += "base_model: \(quoted(base))\n" }
        yaml += "models:\n"
        for model in arguments.positionals { yaml += "  - model: \(quoted(model))\n" }
        return yaml + (try parametersYAML(arguments.all("--param"), spec: spec))
    }
}

/// `--param key=value` options as a config's global `parameters:` block (empty without any).
func parametersYAML(_ params: [String], spec: CommandSpec) throws(UsageError) -> String {
    guard !params.isEmpty else { return "" }
    var yaml = "parameters:\n"
    for param in params {
        guard let equals = param.firstIndex(of: "="), equals != param.startIndex else {
            throw UsageError(command: spec, message: "--param takes key=value, not '\(param)'")
        }
        yaml += "  \(param[..<equals]): \(param[param.index(after: equals)...])\n"
    }
    return yaml
}

/// A YAML double-quoted scalar.
func quoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
