/// A position in a configuration file: 1-based line and column (columns count Unicode scalars).
public struct Mark: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}

/// Errors reading a merge configuration: malformed YAML, a schema violation, a feature ggufmerge does not
/// support, or a parameter that does not fit the merge method.
///
/// `description` is one line, `file:line:column: message` when the position is known (as compilers
/// print), `file: message` otherwise.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text is not YAML (or not the subset ggufmerge reads): unclosed quote, bad indentation, …
    case syntax(file: String, at: Mark, message: String)
    /// Valid YAML whose content does not fit mergekit's schema or the merge method.
    case invalid(file: String, at: Mark?, message: String)
    /// Something mergekit (or YAML) allows that ggufmerge does not implement.
    case unsupported(file: String, at: Mark?, message: String)
    /// The file could not be read.
    case unreadable(file: String, reason: String)

    public var file: String {
        switch self {
        case let .syntax(file, _, _), let .invalid(file, _, _), let .unsupported(file, _, _),
             let .unreadable(file, _): file
        }
    }

    public var mark: Mark? {
        switch self {
        case let .syntax(_, mark, _): mark
        case let .invalid(_, mark, _), let .unsupported(_, mark, _): mark
        case .unreadable: nil
        }
    }

    /// The message without the location prefix.
    public var message: String {
        switch self {
        case let .syntax(_, _, message), let .invalid(_, _, message), let .unsupported(_, _, message): message
        case let .unreadable(_, reason): "cannot read configuration: \(reason)"
        }
    }

    public var description: String {
        if let mark { "\(file):\(mark): \(message)" } else { "\(file): \(message)" }
    }
}
