import Foundation
import Merge

/// `ggufmerge lora BASE ADAPTER[:scale]… -o OUT`: apply LoRA adapters to a base of any type, or merge
/// several adapters with a task-vector method (each adapter's B·A is its task vector).
enum LoraCommand: Command {
    static let spec = CommandSpec(
        name: "lora",
        abstract: "Apply GGUF LoRA adapters to a base model, or merge several with TIES/DARE/….",
        usage: "ggufmerge lora <base.gguf> <adapter.gguf[:scale]>... -o <out.gguf> [--method ties --param density=0.5]",
        arguments: [("<base.gguf>", "The base model, of any type (quantized bases are requantized to their own types)."),
                    ("<adapter.gguf[:scale]>", "LoRA adapters (llama.cpp's convert_lora_to_gguf.py); scale defaults to 1.")],
        options: MergeCommand.spec.options.filter { !["--method", "--base"].contains($0.names.last!) } + [
            .init(names: ["--method"], valueName: "name", help: "Merge the adapters with this method (default: task_arithmetic with weight 1, i.e. add every delta, as llama-export-lora)."),
        ],
        discussion: "With one adapter and no --method, the output is base + scale·(alpha/rank)·B·A.")

    static func run(_ arguments: ParsedArguments) throws {
        guard arguments.positionals.count >= 2 else {
            throw UsageError(command: spec, message: "expected <base.gguf> and at least one adapter")
        }
        let base = arguments.positionals[0]
        let method = arguments.value("--method") ?? "task_arithmetic"
        var quick = QuickConfig()
        quick.add("merge_method: \(quoted(method))", from: arguments.value("--method").map { "--method \($0)" })
        quick.add("base_model: \(quoted(base))", from: "<base.gguf> \(base)")
        quick.add("models:", from: nil)
        for argument in arguments.positionals.dropFirst() {
            var path = argument
            var scale = "1"
            if let colon = argument.lastIndex(of: ":"), !FileManager.default.fileExists(atPath: argument) {
                let text = argument[argument.index(after: colon)...]
                guard let value = Double(text), value.isFinite else {
                    throw UsageError(command: spec, message: "\(argument): scale '\(text)' is not a number (adapter.gguf:0.5)")
                }
                path = String(argument[..<colon])
                scale = value.description
            }
            quick.add("  - model: {model: \(quoted(base)), lora: \(quoted(path)), lora_scale: \(scale)}", from: "<adapter> \(argument)")
        }
        var params = arguments.all("--param")
        if arguments.value("--method") == nil { params.append("weight=1") }
        try quick.addParameters(params, spec: spec)
        try quick.run { config in try MergeCommand.execute(config, configText: quick.yaml, arguments: arguments, spec: spec) }
    }
}
