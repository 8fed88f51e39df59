import Foundation
import GGUF

/// The output's identifying metadata: its name, its size label, and the config it was made with
/// (without the author's local directories).
enum Provenance {
    /// `general.size_label` as llama.cpp's converter computes it (`gguf-py`'s `size_label` over
    /// `get_total_parameter_count`): the parameter count in K/M/B/T with at least two significant
    /// digits, or `<experts>x<per-expert size>` for a mixture of experts.
    static func sizeLabel(_ tensors: [(name: String, shape: [Int])]) -> String {
        var total = 0, shared = 0, expertParams = 0, expertSum = 0, expertTensors = 0
        for (name, shape) in tensors {
            let size = shape.reduce(1, *)
            // gguf-py's shapes are reversed ggml shapes: its shape[-3] is ggml's shape[2].
            if name.contains("_exps."), shape.count >= 3 {
                let experts = shape[name.contains(".bias") ? 1 : 2]
                expertParams += size / experts
                expertSum += experts
                expertTensors += 1
            } else {
                shared += size
            }
            total += size
        }
        let expertCount = expertTensors > 0 ? expertSum / expertTensors : 0
        if expertCount > 0 { return "\(expertCount)x" + roundedNotation(shared + expertParams) }
        return roundedNotation(total)
    }

    /// gguf-py's `model_weight_count_rounded_notation` with `min_digits = 2`.
    static func roundedNotation(_ count: Int) -> String {
        let n = Double(count)
        let (scaled, suffix) = n > 1e12 ? (n * 1e-12, "T") : n > 1e9 ? (n * 1e-9, "B") : n > 1e6 ? (n * 1e-6, "M") : (n * 1e-3, "K")
        // Python: len(str(round(scaled)).lstrip('0')), round() being half-to-even.
        let integerDigits = String(Int(scaled.rounded(.toNearestOrEven))).drop { $0 == "0" }.count
        return String(format: "%.\(max(2 - integerDigits, 0))f", scaled) + suffix
    }

    /// A `general.name` for a merge the user did not name: the inputs' names (the base's last, when
    /// it is one of several) and the method, e.g. `Tiny A + Tiny B (ties)`.
    static func derivedName(inputNames: [String], baseIndex: Int?, method: String) -> String {
        var names = inputNames
        if let baseIndex, names.count > 1 { names.remove(at: baseIndex) }
        return names.joined(separator: " + ") + " (\(method))"
    }

    /// The config text with every absolute model or adapter path it spells out reduced to its file
    /// name, so that a published model does not reveal the author's directories.
    static func configWithoutLocalPaths(_ text: String, references: [ModelReference]) -> String {
        var text = text
        let spelled = Set(references.flatMap { $0.text.split(separator: "+").map { $0.trimmingCharacters(in: .whitespaces) } })
        for path in spelled.sorted(by: { $0.count > $1.count }) where path.hasPrefix("/") || path.hasPrefix("~") {
            text = text.replacingOccurrences(of: path, with: URL(fileURLWithPath: path).lastPathComponent)
        }
        return text
    }
}
