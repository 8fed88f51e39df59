import Foundation

/// A parameter as written in a configuration, before it is resolved for a tensor: mergekit's
/// `ParameterSetting` (a scalar, a gradient, or filtered conditions).
///
/// Values stay YAML scalars until resolution, where they are read as the method's `ParameterKind`
/// (so `1e-5` is a number and `yes` a flag, as mergekit's pydantic validation reads them), and errors
/// point at the offending scalar.
public indirect enum ParameterSetting: Sendable, Equatable {
    /// One value: `weight: 0.5`, `normalize: true`.
    case scalar(YAMLNode)
    /// Values over the layers: `density: [1, 0.7, 0.1]`. An empty list sets nothing.
    case gradient([YAMLNode], Mark)
    /// `- filter: self_attn` / `value: …` items tried in order; the first whose filter matches the tensor
    /// (or that has no filter, or `filter: "*"`) gives the value. A value is a scalar or a gradient.
    case conditions([Condition], Mark)

    public struct Condition: Sendable, Equatable {
        /// nil: matches every tensor.
        public var filter: String?
        public var value: ParameterSetting
        public var mark: Mark

        public init(filter: String?, value: ParameterSetting, mark: Mark) {
            self.filter = filter
            self.value = value
            self.mark = mark
        }
    }

    public var mark: Mark {
        switch self {
        case let .scalar(node): node.mark
        case let .gradient(_, mark), let .conditions(_, mark): mark
        }
    }

    /// Every scalar value in the setting (for type checks before any tensor is resolved).
    var leaves: [YAMLNode] {
        switch self {
        case let .scalar(node): [node]
        case let .gradient(items, _): items
        case let .conditions(conditions, _): conditions.flatMap(\.value.leaves)
        }
    }

    /// Reads a setting from YAML as mergekit's pydantic model does: a scalar, a list of scalars, one
    /// `{filter, value}` mapping, or a list of them.
    ///
    /// - Parameter owner: names the parameter in messages, e.g. "parameter 'weight' of model 'a.gguf'".
    static func parse(_ node: YAMLNode, owner: String, file: String) throws(ConfigError) -> ParameterSetting {
        switch node {
        case .scalar:
            if node.isNull { throw .invalid(file: file, at: node.mark, message: "\(owner) has no value") }
            return .scalar(node)
        case let .sequence(items, mark):
            if items.allSatisfy({ if case .scalar = $0 { true } else { false } }) {
                if let null = items.first(where: \.isNull) {
                    throw .invalid(file: file, at: null.mark, message: "\(owner): a list item has no value")
                }
                return .gradient(items, mark)
            }
            guard items.allSatisfy({ if case .mapping = $0 { true } else { false } }) else {
                throw .invalid(file: file, at: mark, message:
                    "\(owner) must be a value, a list of values (a gradient) or a list of '- filter: …, value: …' items, not a mix")
            }
            var conditions: [Condition] = []
            for item in items { conditions.append(try condition(item, owner: owner, file: file)) }
            return .conditions(conditions, mark)
        case .mapping:
            return .conditions([try condition(node, owner: owner, file: file)], node.mark)
        }
    }

    private static func condition(_ node: YAMLNode, owner: String, file: String) throws(ConfigError) -> Condition {
        var filter: String?
        var value: ParameterSetting?
        for pair in node.pairs ?? [] {
            switch pair.key {
            case "filter":
                guard case let .scalar(text, _, _) = pair.value else {
                    throw .invalid(file: file, at: pair.value.mark, message: "\(owner): 'filter' must be a string")
                }
                filter = pair.value.isNull ? nil : text
            case "value":
                let parsed = try parse(pair.value, owner: owner, file: file)
                if case .conditions = parsed {
                    throw .invalid(file: file, at: pair.value.mark, message:
                        "\(owner): a conditional 'value' must be a value or a gradient list, not further conditions")
                }
                value = parsed
            default:
                throw .invalid(file: file, at: pair.keyMark, message:
                    "\(owner): unknown key '\(pair.key)' in a conditional value (expected 'filter' and 'value')")
            }
        }
        guard let value else {
            throw .invalid(file: file, at: node.mark, message: "\(owner): conditional item has no 'value'")
        }
        return Condition(filter: filter, value: value, mark: node.mark)
    }

    /// mergekit's `evaluate_setting`: the value for tensor `ggufName` at gradient position `t`, or nil
    /// when no condition matches (or the gradient is empty), in which case the next, lower-precedence
    /// setting is tried.
    ///
    /// A numeric gradient `[v0 … vn-1]` interpolates linearly: `s = t·(n−1)`, `i = ⌊s⌋`,
    /// `j = min(n−1, i+1)`, value `(1−(s−i))·v[i] + (s−i)·v[j]`, in double precision as mergekit computes
    /// it. A flag gradient selects `v[⌊t·(n−1)⌋]`. Filters match as `NameMap.matches` says.
    func evaluate(tensor ggufName: String, t: Double, kind: ParameterKind, owner: String,
                  file: String) throws(ConfigError) -> ParameterValue? {
        switch self {
        case let .scalar(node):
            return try ParameterSetting.value(node, kind: kind, owner: owner, file: file)
        case let .gradient(items, _):
            guard !items.isEmpty else { return nil }
            switch kind {
            case .bool:
                let position = Int(t * Double(items.count - 1))
                return try ParameterSetting.value(items[min(max(position, 0), items.count - 1)], kind: kind,
                                                  owner: owner, file: file)
            case .number:
                var values: [Double] = []
                for item in items {
                    guard case let .number(value) = try ParameterSetting.value(item, kind: kind, owner: owner, file: file)
                    else { return nil }
                    values.append(value)
                }
                let scaled = t * Double(values.count - 1)
                let i0 = min(max(Int(scaled), 0), values.count - 1)
                let i1 = min(values.count - 1, i0 + 1)
                let fraction = scaled - Double(i0)
                return .number((1 - fraction) * values[i0] + fraction * values[i1])
            }
        case let .conditions(conditions, _):
            for condition in conditions {
                if let filter = condition.filter, !NameMap.matches(filter: filter, ggufName: ggufName) { continue }
                return try condition.value.evaluate(tensor: ggufName, t: t, kind: kind, owner: owner, file: file)
            }
            return nil
        }
    }

    /// Reads one scalar as `kind`, leniently as pydantic does: numbers may be quoted (`"0.5"`, `1e-5`);
    /// flags accept `true/false/yes/no/on/off/y/n/t/f/1/0` in any case, quoted or not.
    static func value(_ node: YAMLNode, kind: ParameterKind, owner: String, file: String) throws(ConfigError) -> ParameterValue {
        guard case let .scalar(text, style, mark) = node, !node.isNull else {
            throw .invalid(file: file, at: node.mark, message: "\(owner) must be \(kind == .number ? "a number" : "true or false"), not \(node.kindDescription)")
        }
        switch kind {
        case .number:
            let trimmed = style == .plain ? text : text.trimmingCharacters(in: .whitespaces)
            if style != .literal, style != .folded, let value = YAMLNode.coreNumber(trimmed) {
                return .number(value)
            }
            throw .invalid(file: file, at: mark, message: "\(owner) must be a number")
        case .bool:
            if style != .literal, style != .folded {
                switch text.trimmingCharacters(in: .whitespaces).lowercased() {
                case "true", "yes", "on", "y", "t", "1": return .bool(true)
                case "false", "no", "off", "n", "f", "0": return .bool(false)
                default:
                    if let number = YAMLNode.coreNumber(text), number == 0 || number == 1 { return .bool(number == 1) }
                }
            }
            throw .invalid(file: file, at: mark, message: "\(owner) must be true or false")
        }
    }
}

/// A `parameters:` mapping: settings by name, in document order, with where each name was written.
public struct ParameterSettings: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var keyMark: Mark
        public var setting: ParameterSetting
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    public var isEmpty: Bool { entries.isEmpty }
    public var names: [String] { entries.map(\.name) }

    public subscript(name: String) -> ParameterSetting? {
        entries.first { $0.name == name }?.setting
    }
}
