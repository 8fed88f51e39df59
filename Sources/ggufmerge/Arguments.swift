/// A command's declared interface, in swift-argument-parser's terms, and the parse of its arguments.
struct CommandSpec {
    struct Option {
        var names: [String]          // e.g. ["-o", "--output"]
        var valueName: String?       // nil: a flag
        var help: String
        var repeatable = false
    }

    var name: String
    var abstract: String
    var usage: String
    var arguments: [(name: String, help: String)] = []
    var options: [Option] = []
    var discussion: String? = nil

    var helpText: String {
        var text = "OVERVIEW: \(abstract)\n\nUSAGE: \(usage)\n"
        if !arguments.isEmpty {
            text += "\nARGUMENTS:\n"
            for argument in arguments { text += row(argument.name, argument.help) }
        }
        text += "\nOPTIONS:\n"
        for option in options + [Option(names: ["-h", "--help"], help: "Show help information.")] {
            let label = option.names.joined(separator: ", ") + (option.valueName.map { " <\($0)>" } ?? "")
            text += row(label, option.help)
        }
        if let discussion { text += "\n\(discussion)\n" }
        return text
    }

    private func row(_ label: String, _ help: String) -> String {
        let pad = label.count < 28 ? String(repeating: " ", count: 28 - label.count) : "\n" + String(repeating: " ", count: 30)
        return "  \(label)\(pad)\(help)\n"
    }

    /// Parses `arguments` (without the command name). `--opt=value` and `--opt value` both work;
    /// `--` ends options.
    func parse(_ arguments: [String]) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" { onlyPositionals = true; continue }
            if argument == "-h" || argument == "--help" { parsed.wantsHelp = true; continue }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            guard let option = options.first(where: { $0.names.contains(name) }) else {
                throw UsageError(command: self, message: "unknown option '\(name)'")
            }
            let key = option.names.last!
            guard let valueName = option.valueName else {
                if inlineValue != nil { throw UsageError(command: self, message: "option '\(name)' takes no value") }
                parsed.flags.insert(key)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else {
                    throw UsageError(command: self, message: "missing value for '\(name) <\(valueName)>'")
                }
                value = arguments[index]
                index += 1
            }
            if !option.repeatable, parsed.values[key] != nil {
                throw UsageError(command: self, message: "option '\(name)' given more than once")
            }
            parsed.values[key, default: []].append(value)
        }
        return parsed
    }
}

struct ParsedArguments {
    var positionals: [String] = []
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var wantsHelp = false

    /// The last value of the option whose long name is `name` (e.g. "--threads").
    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func flag(_ name: String) -> Bool { flags.contains(name) }

    func integer(_ name: String, in range: ClosedRange<Int>, command: CommandSpec) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError(command: command, message: "\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }
}

/// Misuse of the command line: printed as `Error: …` and the usage line, exit code 2.
struct UsageError: Error {
    var command: CommandSpec?
    var message: String
}
