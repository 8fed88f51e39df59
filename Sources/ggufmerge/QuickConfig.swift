import Foundation
import Merge

/// A mergekit config written from command-line options (`merge --method …`, `lora`), remembering
/// which option gave each line, so that an error in it names the option (`--base x.gguf`) rather
/// than a position in text the user never saw.
struct QuickConfig {
    static let file = "<command line>"
    private(set) var yaml = ""
    /// 1-based line → the option (or argument) as typed.
    private var origins: [Int: String] = [:]
    private var lineCount = 0

    /// Appends one line of YAML that `option` (nil: none in particular) gave.
    mutating func add(_ line: String, from option: String?) {
        yaml += line + "\n"
        lineCount += 1
        if let option { origins[lineCount] = option }
    }

    /// `--param key=value` options as the global `parameters:` block (nothing without any).
    mutating func addParameters(_ params: [String], spec: CommandSpec) throws(UsageError) {
        guard !params.isEmpty else { return }
        add("parameters:", from: nil)
        for param in params {
            guard let equals = param.firstIndex(of: "="), equals != param.startIndex else {
                throw UsageError(command: spec, message: "--param takes key=value, not '\(param)'")
            }
            add("  \(param[..<equals]): \(param[param.index(after: equals)...])", from: "--param \(param)")
        }
    }

    /// Parses the config; plans and runs it with `body`. A config error at a line an option gave
    /// names that option.
    func run(_ body: (MergeConfig) throws -> Void) throws {
        do {
            try body(try MergeConfig.parse(yaml, file: Self.file, directory: FileManager.default.currentDirectoryPath))
        } catch let error as ConfigError where error.file == Self.file {
            // Without a position (a parameter missing for a tensor, …) the method is what asked for it.
            guard let option = origins[error.mark?.line ?? 1] else { throw error }
            throw ConfigError.invalid(file: option, at: nil, message: error.message)
        }
    }
}

/// A YAML double-quoted scalar.
func quoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
