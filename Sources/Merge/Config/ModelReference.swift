import Foundation

/// A model named in a configuration: a GGUF file, optionally with a LoRA adapter GGUF applied to it
/// (mergekit's `model+lora` syntax).
///
/// Paths are resolved against the configuration file's directory and standardized, so `a.gguf` and
/// `./a.gguf` name the same model. `text` keeps what the configuration said, for messages.
public struct ModelReference: Sendable, Hashable, CustomStringConvertible {
    /// The base GGUF file (absolute, standardized).
    public var path: String
    /// The LoRA adapter GGUF applied to `path`, if any (absolute, standardized).
    public var adapter: String?
    /// The adapter's scale (llama-export-lora's `--lora-scaled`); nil means 1.
    public var adapterScale: Double?
    /// The reference as written in the configuration (`a.gguf`, `base.gguf+lora.gguf`).
    public var text: String

    public init(path: String, adapter: String? = nil, adapterScale: Double? = nil, text: String? = nil) {
        self.path = path
        self.adapter = adapter
        self.adapterScale = adapterScale
        self.text = text ?? (adapter.map { "\(path)+\($0)" } ?? path)
    }

    public var description: String { text }

    /// Identity is the files and scale, not the spelling.
    public static func == (lhs: ModelReference, rhs: ModelReference) -> Bool {
        lhs.path == rhs.path && lhs.adapter == rhs.adapter && lhs.adapterScale == rhs.adapterScale
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(adapter)
        hasher.combine(adapterScale)
    }

    /// Parses mergekit's model syntax: `path` or `path+adapter`, relative paths against `directory`.
    ///
    /// Throws when there is more than one `+`, when a part is empty, or when a part looks like a
    /// Hugging Face repository id (`org/name`, no `.gguf`, not an existing file): ggufmerge reads only
    /// local GGUF files. Whether the files exist is checked when the plan opens them.
    static func parse(_ text: String, directory: String, file: String, at mark: Mark) throws(ConfigError) -> ModelReference {
        let parts = text.split(separator: "+", omittingEmptySubsequences: false).map {
            String($0).trimmingCharacters(in: .whitespaces)
        }
        guard parts.count <= 2 else {
            throw .invalid(file: file, at: mark, message: "cannot parse model '\(text)': expected 'model.gguf' or 'model.gguf+adapter.gguf'")
        }
        guard parts.allSatisfy({ !$0.isEmpty }) else {
            throw .invalid(file: file, at: mark, message: "cannot parse model '\(text)': empty path")
        }
        var resolved: [String] = []
        for part in parts {
            let path = resolve(part, directory: directory)
            if part.contains("/"), !part.lowercased().contains(".gguf"), !FileManager.default.fileExists(atPath: path) {
                throw .unsupported(file: file, at: mark, message:
                    "model '\(part)' looks like a Hugging Face repository id; ggufmerge reads local GGUF files: give the path of a .gguf file (download and convert the model first)")
            }
            resolved.append(path)
        }
        return ModelReference(path: resolved[0], adapter: resolved.count > 1 ? resolved[1] : nil, text: text)
    }

    /// `path` made absolute against `directory` (unless already absolute; `~` expanded) and standardized.
    static func resolve(_ path: String, directory: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let absolute = expanded.hasPrefix("/") ? expanded : (directory as NSString).appendingPathComponent(expanded)
        return URL(fileURLWithPath: absolute).standardized.path
    }
}
