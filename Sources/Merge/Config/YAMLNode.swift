/// A node of a YAML document, as ggufmerge's reader produces it (see `YAML.parse`).
///
/// Scalars keep their source text and style; what a scalar means (number, flag, null, text) is decided
/// by the reader of the schema through the typed accessors, as YAML's core schema does for plain
/// scalars. Quoted and block scalars are always text.
public indirect enum YAMLNode: Sendable, Equatable {
    /// How a scalar was written.
    public enum ScalarStyle: Sendable, Equatable {
        case plain
        case singleQuoted
        case doubleQuoted
        /// `|` block scalar.
        case literal
        /// `>` block scalar.
        case folded
    }

    /// One `key: value` entry of a mapping, in document order.
    public struct Pair: Sendable, Equatable {
        public var key: String
        public var keyMark: Mark
        public var value: YAMLNode

        public init(key: String, keyMark: Mark, value: YAMLNode) {
            self.key = key
            self.keyMark = keyMark
            self.value = value
        }
    }

    case scalar(String, ScalarStyle, Mark)
    case mapping([Pair], Mark)
    case sequence([YAMLNode], Mark)

    /// Where the node starts.
    public var mark: Mark {
        switch self {
        case let .scalar(_, _, mark), let .mapping(_, mark), let .sequence(_, mark): mark
        }
    }

    /// What kind of node this is, for messages: "a mapping", "a list", "null", "a number", …
    public var kindDescription: String {
        switch self {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar:
            if isNull { "null" } else if bool != nil { "a boolean" } else if number != nil { "a number" } else { "a string" }
        }
    }

    // MARK: Typed accessors (YAML 1.2 core schema for plain scalars)

    /// The text of a scalar of any style; nil for collections.
    public var string: String? {
        if case let .scalar(text, _, _) = self { return text }
        return nil
    }

    /// True for an empty node and the plain scalars `~`, `null`, `Null`, `NULL`.
    public var isNull: Bool {
        guard case let .scalar(text, .plain, _) = self else { return false }
        return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    /// `true`/`false` (also `True`, `TRUE`, …) written plain.
    public var bool: Bool? {
        guard case let .scalar(text, .plain, _) = self else { return nil }
        return YAMLNode.coreBool(text)
    }

    /// A plain integer (`12`, `-3`, `+4`, `0x1F`, `0o17`).
    public var int: Int? {
        guard case let .scalar(text, .plain, _) = self else { return nil }
        return YAMLNode.coreInt(text)
    }

    /// A plain number: an integer, a float (`0.5`, `.5`, `1e-5`, `1.`, `-2.5E+3`), `.inf`, `.nan`.
    public var number: Double? {
        guard case let .scalar(text, .plain, _) = self else { return nil }
        return YAMLNode.coreNumber(text)
    }

    /// The entries of a mapping; nil for other nodes.
    public var pairs: [Pair]? {
        if case let .mapping(pairs, _) = self { return pairs }
        return nil
    }

    /// The items of a sequence; nil for other nodes.
    public var items: [YAMLNode]? {
        if case let .sequence(items, _) = self { return items }
        return nil
    }

    /// The value for `key` in a mapping (keys are unique: the reader rejects duplicates).
    public subscript(key: String) -> YAMLNode? {
        pairs?.first { $0.key == key }?.value
    }

    // MARK: Core schema

    static func coreBool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    static func coreInt(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let first = digits.first, first == "-" || first == "+" {
            negative = first == "-"
            digits = digits.dropFirst()
        }
        var radix = 10
        if digits.hasPrefix("0x") { radix = 16; digits = digits.dropFirst(2) }
        else if digits.hasPrefix("0o") { radix = 8; digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit }), let magnitude = Int(digits, radix: radix)
        else { return nil }
        return negative ? -magnitude : magnitude
    }

    static func coreNumber(_ text: String) -> Double? {
        if let value = coreInt(text) { return Double(value) }
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        return decimalFloat(text)
    }

    /// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`, parsed correctly rounded.
    static func decimalFloat(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D { index += 1 }
        let integerDigits = digits()
        var fractionDigits = 0
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            fractionDigits = digits()
        }
        guard integerDigits + fractionDigits > 0 else { return nil }
        if index < bytes.count, bytes[index] == 0x65 || bytes[index] == 0x45 {
            index += 1
            if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D { index += 1 }
            guard digits() > 0 else { return nil }
        }
        guard index == bytes.count else { return nil }
        return Double(text)
    }
}
