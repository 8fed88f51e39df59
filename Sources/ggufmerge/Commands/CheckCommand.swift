import Foundation
import GGUF
import Merge

/// `ggufmerge check MODEL… [--base BASE] [--json]`: will these models merge?
enum CheckCommand: Command {
    static let spec = CommandSpec(
        name: "check",
        abstract: "Check that models can be merged: compatibility, relatedness, task vectors vs rounding noise.",
        usage: "ggufmerge check <model>... [--base <model>] [--json]",
        arguments: [("<model>", "GGUF models (first shard of split ones) or LoRA adapters (checked against the base).")],
        options: [
            .init(names: ["--base"], valueName: "model", help: "The base model: task vectors (model − base) and their noise are measured against it."),
            .init(names: ["--json"], help: "Print one JSON document."),
            .init(names: ["--threads"], valueName: "n", help: "Threads (default: the core count)."),
        ],
        discussion: """
            Reads sampled rows of every 2-D weight (about 128 K values a tensor), so it takes seconds even
            for large models. Exit code 0 when the models can be merged, 1 when they cannot (the report
            says why).
            """)

    static func run(_ arguments: ParsedArguments) throws {
        var paths = arguments.positionals
        var baseIndex: Int?
        if let base = arguments.value("--base") {
            paths.insert(base, at: 0)
            baseIndex = 0
        }
        guard paths.count >= 2 else {
            throw UsageError(command: spec, message: paths.isEmpty ? "missing <model>" : "give at least two models (or one and --base)")
        }
        let threads = try arguments.integer("--threads", in: 1 ... 1024, command: spec) ?? ProcessInfo.processInfo.activeProcessorCount
        var models: [GGUFModel] = []
        var adapters: [LoRAAdapter] = []
        for (index, path) in paths.enumerated() {
            let model: GGUFModel
            do { model = try GGUFModel(path: path) } catch { throw MergeError.gguf(error, context: nil) }
            if model.metadata["general.type"]?.string == "adapter" {
                guard index != baseIndex else { throw MergeError.adapter(path: path, reason: "a LoRA adapter cannot be the base") }
                adapters.append(try LoRAAdapter(path: path))
            } else {
                models.append(model)
            }
        }
        guard !models.isEmpty else { throw MergeError.incompatible("no model to check the adapters against") }
        let report = try ModelCheck.run(models, baseIndex: baseIndex, adapters: adapters, threads: threads)
        print(arguments.flag("--json") ? json(report).text : table(report), terminator: arguments.flag("--json") ? "\n" : "")
        if !report.isCompatible { exit(1) }
    }

    // MARK: - JSON

    static func json(_ report: CheckReport) -> JSON {
        let total = report.total
        func number(_ value: Double?) -> JSON { value.map { $0.isFinite ? .double($0) : .null } ?? .null }
        let models: [JSON] = report.models.indices.map { index in
            var fields: [(String, JSON)] = [("path", .string(report.models[index])),
                                            ("role", .string(index == report.baseIndex ? "base" : "model"))]
            if report.baseIndex != nil, index != report.baseIndex {
                fields += [
                    ("task_vector_relative_norm", number(report.relativeTaskVectorNorm(index))),
                    ("task_vector_noise_ratio", number(report.taskVectorNoiseRatio(index))),
                    ("noisiest_tensors", .array(report.noisiestTensors(index).map {
                        .object([("name", .string($0.name)), ("noise_ratio", number($0.ratio))])
                    })),
                ]
            }
            return .object(fields)
        }
        let pairs: [JSON] = report.pairs.map { i, j in
            var fields: [(String, JSON)] = [
                ("models", .array([.int(Int64(i)), .int(Int64(j))])),
                ("relation", .string(report.relation(i, j).rawValue)),
                ("cosine", number(CheckReport.cosine(total, i, j))),
                ("noise_ratio", number(CheckReport.noiseRatio(total, i, j))),
                ("layers", .object(report.layers.map { ($0.name, number(CheckReport.cosine($0.sums, i, j))) })),
            ]
            if report.baseIndex != nil, i != report.baseIndex, j != report.baseIndex {
                fields += [("task_vector_cosine", number(report.taskVectorCosine(i, j))),
                           ("sign_agreement", number(report.signAgreement(i, j)))]
            }
            return .object(fields)
        }
        return .object([
            ("compatible", .bool(report.isCompatible)),
            ("models", .array(models)),
            ("findings", .array(report.findings.map {
                .object([("blocks_merge", .bool($0.blocksMerge)), ("message", .string($0.description))])
            })),
            ("tensors_compared", .int(Int64(report.tensors.count))),
            ("pairs", .array(pairs)),
        ])
    }

    // MARK: - Table

    static func table(_ report: CheckReport) -> String {
        let total = report.total
        var out = "MODELS:\n"
        for (index, path) in report.models.enumerated() {
            out += "  [\(index)] \(path)\(index == report.baseIndex ? " (base)" : "")\n"
        }
        out += "\nCOMPATIBILITY:\n"
        if report.findings.isEmpty { out += "  ok: architecture, hyperparameters, tensors and vocabulary agree\n" }
        for finding in report.findings.prefix(12) { out += "  \(finding.blocksMerge ? "✗" : "!") \(finding)\n" }
        if report.findings.count > 12 { out += "  … and \(report.findings.count - 12) more (--json lists them all)\n" }

        out += "\nRELATEDNESS (weight cosine from sampled rows of \(report.tensors.count) 2-D tensors):\n"
        let layers = report.layers
        out += "  " + pad("pair", 10) + pad("overall", 9) + layers.map { pad($0.name, 8) }.joined() + "verdict\n"
        for (i, j) in report.pairs {
            out += "  " + pad("[\(i)]–[\(j)]", 10) + pad(fixed(CheckReport.cosine(total, i, j), 4), 9)
                + layers.map { pad(fixed(CheckReport.cosine($0.sums, i, j), 3), 8) }.joined()
                + report.relation(i, j).rawValue + "\n"
        }
        guard report.baseIndex != nil else { return out }

        out += "\nTASK VECTORS (model − base):\n"
        out += "  " + pad("model", 7) + pad("‖x−base‖/‖base‖", 17) + pad("noise ratio", 13) + "meaning\n"
        for model in report.nonBase {
            let ratio = report.taskVectorNoiseRatio(model)
            out += "  " + pad("[\(model)]", 7) + pad(report.relativeTaskVectorNorm(model).map { fixed($0, 4) } ?? "–", 17)
                + pad(ratio.map(ratioText) ?? "–", 13) + phrase(ratio) + "\n"
            if let ratio, ratio < CheckReport.taskVectorNoiseWarning * 10 {
                out += "  " + pad("", 37) + "noisiest: " + report.noisiestTensors(model).map { "\($0.name) \(ratioText($0.ratio))" }.joined(separator: ", ") + "\n"
            }
        }
        let others = report.nonBase
        if others.count > 1 {
            out += "\n  " + pad("pair", 10) + pad("task-vector cosine", 20) + "sign agreement (weights both changed)\n"
            for (i, j) in report.pairs where others.contains(i) && others.contains(j) {
                out += "  " + pad("[\(i)]–[\(j)]", 10) + pad(report.taskVectorCosine(i, j).map { fixed($0, 3) } ?? "–", 20)
                    + (report.signAgreement(i, j).map { fixed($0 * 100, 1) + " %" } ?? "–") + "\n"
            }
        }
        return out
    }

    /// What a task-vector noise ratio means for a merge.
    static func phrase(_ ratio: Double?) -> String {
        guard let ratio else { return "float files: no rounding noise" }
        let share = ratio >= 1000 ? "< 0.1 %" : fixed(min(100, 100 / ratio), ratio >= 10 ? 1 : 0) + " %"
        switch ratio {
        case 1000...: return "clean: noise is \(share) of the task vector"
        case CheckReport.taskVectorNoiseWarning...: return "fine: noise is \(share) of the task vector"
        case 10...: return "noisy: \(share) of the task vector is rounding noise, which task-vector merges keep"
        default: return "mostly noise (\(share)): a task-vector merge of these files is mostly rounding noise"
        }
    }

    static func ratioText(_ ratio: Double) -> String { ratio >= 100 ? String(format: "%.0f×", ratio) : String(format: "%.1f×", ratio) }
    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
