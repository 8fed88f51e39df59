import Foundation

/// ggufmerge's YAML reader: the subset of YAML 1.2 that merge configurations use.
///
/// Supported: block mappings and sequences (including a sequence at the same indentation as its key,
/// and `- key: value` items whose further keys continue at the key's column), flow sequences `[a, b]`
/// and flow mappings `{k: v}` (nested, across lines, trailing comma allowed), plain, single-quoted and
/// double-quoted scalars (all YAML escapes, line folding), literal `|` and folded `>` block scalars
/// (chomping `-`/`+` and indentation indicators), comments, `---`/`...` markers (`parse` reads the first
/// document of a stream, `parseAll` every one).
///
/// Rejected with a `ConfigError` naming `file:line:column`: tabs in indentation, bad indentation, unclosed
/// quotes and brackets, duplicate keys, and the features ggufmerge does not implement (anchors, aliases,
/// tags, directives, complex keys).
public enum YAML {
    /// Parses the first document of `text`. An empty document is a null scalar at 1:1.
    ///
    /// - Parameter file: the name used in error messages.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLNode {
        var parser = YAMLParser(text, file: file)
        return try parser.parseDocument()
    }

    /// Parses every document of `text` (a multi-document stream, `---`-separated), in order.
    public static func parseAll(_ text: String, file: String) throws(ConfigError) -> [YAMLNode] {
        var parser = YAMLParser(text, file: file)
        return try parser.parseStream()
    }

    /// Reads and parses the file at `path`; errors name the path as given.
    public static func load(path: String) throws(ConfigError) -> YAMLNode {
        try parse(read(path: path), file: path)
    }

    /// Reads the file at `path` as UTF-8 text.
    public static func read(path: String) throws(ConfigError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(file: path, reason: "not UTF-8 text")
        }
        return text
    }
}
