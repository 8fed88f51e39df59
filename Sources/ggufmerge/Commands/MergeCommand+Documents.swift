import Foundation
import GGUF
import Merge

/// Multi-document configs (mergekit-mega): every document but the last is merged into a temporary
/// folder under its `name:`, the last into `-o`.
extension MergeCommand {
    static func runDocuments(_ merge: MultiDocumentMerge, configText: String, arguments: ParsedArguments) throws {
        let keep = arguments.flag("--keep-intermediates")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ggufmerge-intermediates-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if !keep { Interruption.removeOnInterruption(folder) }
        defer {
            Interruption.forget(folder)
            if keep {
                note("intermediates kept in \(folder)")
            } else {
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
        let count = merge.documents.count
        let threads = try arguments.integer("--threads", in: 1 ... 1024, command: spec) ?? ProcessInfo.processInfo.activeProcessorCount
        let seed = try arguments.integer("--seed", in: 0 ... Int.max, command: spec) ?? 0
        let dryRun = arguments.flag("--dry-run")
        if !dryRun, let output = arguments.value("--output") {
            // The last document's output is checked again when it is planned; refusing it now saves the
            // intermediate merges.
            do throws(GGUFError) {
                try OutputTarget(path: output, overwrite: arguments.flag("--force")).check(byteCounts: [0], protecting: [])
            } catch {
                throw MergeError.gguf(error, context: nil)
            }
        }
        for index in 0 ..< count - 1 {
            let config = merge.resolved(index, intermediates: folder)
            noteIgnoredOutPath(config)
            let name = config.name!
            // Intermediates keep precision: the document's out_dtype, else F16.
            let plan = try MergePlan.build(config, options: MergeOptions(outputType: config.outDtype == nil ? .fileType(.f16) : nil,
                                                                         configText: configText))
            if dryRun {
                print("document \(index + 1) of \(count) (\(name)):\n" + describe(plan), terminator: "")
                note("--dry-run: documents after '\(name)' need its merge and are not planned")
                return
            }
            let path = MultiDocumentMerge.intermediatePath(name, in: folder)
            let progress = ProgressPrinter(plan: plan, quiet: arguments.flag("--quiet"))
            try MergeEngine(threads: threads, seed: UInt64(seed)).run(plan, to: path, progress: progress.update)
            progress.finish(output: "\(name) (document \(index + 1) of \(count))")
        }
        let last = merge.resolved(count - 1, intermediates: folder)
        noteIgnoredOutPath(last)
        try execute(last, configText: configText, arguments: arguments, spec: spec)
    }

    /// mergekit-mega's `out_path` has no meaning here: said once per document that has one.
    static func noteIgnoredOutPath(_ config: MergeConfig) {
        if let outPath = config.outPath { note("out_path '\(outPath)' is ignored (intermediates go to a temporary folder, the last document to -o)") }
    }

    static func note(_ text: String) { FileHandle.standardError.write(Data("note: \(text)\n".utf8)) }
}
