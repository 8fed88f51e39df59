import Foundation
import Merge

/// Shows a plan's progress on standard error: a redrawn bar on a terminal (tensors done / total,
/// bytes, throughput, ETA), one plain line per tensor otherwise, nothing with `--quiet`. Tensors
/// whose rows do not fit the type the recipe chose are named, as llama-quantize warns.
final class ProgressPrinter {
    enum Style { case bar, lines, quiet }

    let style: Style
    let totalTensors: Int
    let totalBytes: Int
    let start = Date()
    var doneBytes = 0
    var reports: [TensorReport] = []
    /// Shape fallbacks, by tensor name: the sentence saying so.
    let fallbackNotes: [String: String]

    init(plan: MergePlan, quiet: Bool) {
        style = quiet ? .quiet : (isatty(STDERR_FILENO) != 0 ? .bar : .lines)
        totalTensors = plan.jobs.count
        totalBytes = max(plan.outputTensorBytes, 1)
        var notes: [String: String] = [:]
        for job in plan.jobs {
            guard let wanted = plan.fallbacks[job.name] else { continue }
            notes[job.name] = "rows of \(job.shape[0]) are not a multiple of \(wanted.blockSize), required for \(wanted.name): "
                + "fallback \(job.outputType.name)"
        }
        fallbackNotes = notes
        if style == .bar {
            for job in plan.jobs { if let note = notes[job.name] { write("note: \(job.name): \(note)\n") } }
        }
    }

    func update(_ report: TensorReport) {
        reports.append(report)
        doneBytes += report.bytes
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(doneBytes) / max(elapsed, 1e-3)
        switch style {
        case .quiet: return
        case .lines:
            let how = report.copied ? "copied" : String(format: "requant error %.2e", report.requantizationError)
            let note = fallbackNotes[report.name].map { "; \($0)" } ?? ""
            write("[\(report.index + 1)/\(totalTensors)] \(report.name) \(report.outputType.name) (\(how)\(note))\n")
        case .bar:
            let fraction = Double(doneBytes) / Double(totalBytes)
            let width = 30
            let filled = Int(fraction * Double(width))
            let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            write("\r\u{1B}[K\(bar) \(report.index + 1)/\(totalTensors) tensors  \(byteText(doneBytes)) / \(byteText(totalBytes))"
                  + "  \(byteText(Int(rate)))/s  ETA \(duration(eta))")
            if report.index + 1 == totalTensors { write("\n") }
        }
    }

    func finish(output: String) {
        guard style != .quiet else { return }
        let elapsed = Date().timeIntervalSince(start)
        write("wrote \(output): \(totalTensors) tensors, \(byteText(doneBytes)) in \(String(format: "%.1f", elapsed)) s\n")
    }

    /// The tensors whose requantization added the most error: the quantization-aware report.
    func report(top: Int = 10) -> String {
        let worst = reports.filter { !$0.copied && $0.requantizationError > 0 }
            .sorted { $0.requantizationError > $1.requantizationError }.prefix(top)
        var text = "requantization error (‖requantized − merged‖ / ‖merged‖), worst tensors:\n"
        if worst.isEmpty { text += "  none: every tensor was written in F32 or copied\n" }
        for r in worst {
            text += "  " + String(format: "%.3e", r.requantizationError) + "  \(r.outputType.name.padding(toLength: 6, withPad: " ", startingAt: 0)) \(r.name)\n"
        }
        let copied = reports.filter(\.copied).count
        text += "  \(copied) of \(reports.count) tensors copied unchanged (no requantization)\n"
        if !fallbackNotes.isEmpty {
            text += "shape fallbacks (as llama-quantize warns):\n"
            for report in reports { if let note = fallbackNotes[report.name] { text += "  \(report.name): \(note)\n" } }
        }
        return text
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}

func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "--" }
    let s = Int(seconds.rounded())
    return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
}
