import Foundation
import GGUF

/// `ggufmerge inspect FILE [--json]`: what a GGUF file holds.
enum InspectCommand: Command {
    static let spec = CommandSpec(
        name: "inspect",
        abstract: "Show a GGUF file's header, metadata and tensors.",
        usage: "ggufmerge inspect <file> [--json] [-q]",
        arguments: [("<file>", "A .gguf file (a shard of a split model shows that shard, split.* keys included).")],
        options: [.init(names: ["--json"], help: "Print one JSON document (arrays in full)."),
                  .init(names: ["-q", "--quiet"], help: "Print nothing: only check that the file is valid (exit 0) or not (exit 2).")])

    static func run(_ arguments: ParsedArguments) throws {
        guard arguments.positionals.count == 1 else {
            throw UsageError(command: spec, message: arguments.positionals.isEmpty ? "missing <file>" : "expected one file")
        }
        let file = try GGUFFile(path: arguments.positionals[0])
        if arguments.flag("--quiet") { return }
        if arguments.flag("--json") {
            print(json(file).text)
        } else {
            print(summary(file), terminator: "")
        }
    }

    static func json(_ model: GGUFFile) -> JSON {
        .object([
            ("version", .uint(UInt64(model.version))),
            ("alignment", .int(Int64(model.alignment))),
            ("metadata", .object(model.metadata.map { ($0.key, json($0.value)) })),
            ("tensors", .array(model.tensors.map { tensor in
                .object([
                    ("name", .string(tensor.name)),
                    ("type", .string(tensor.type.name)),
                    ("shape", .array(tensor.shape.map { .int(Int64($0)) })),
                    ("offset", .int(Int64(tensor.offset))),
                    ("bytes", .int(Int64(tensor.byteCount))),
                ])
            })),
        ])
    }

    static func json(_ value: MetadataValue) -> JSON {
        switch value {
        case let .uint8(v): .uint(UInt64(v))
        case let .int8(v): .int(Int64(v))
        case let .uint16(v): .uint(UInt64(v))
        case let .int16(v): .int(Int64(v))
        case let .uint32(v): .uint(UInt64(v))
        case let .int32(v): .int(Int64(v))
        case let .uint64(v): .uint(v)
        case let .int64(v): .int(v)
        case let .float32(v): .double(Double(v))
        case let .float64(v): .double(v)
        case let .bool(v): .bool(v)
        case let .string(v): .string(v)
        case let .array(_, values): .array(values.map(json))
        }
    }

    static func summary(_ model: GGUFFile) -> String {
        var out = "\(model.path)\n  GGUF v\(model.version), alignment \(model.alignment)"
        if let number = model.metadata["split.no"]?.int, let count = model.metadata["split.count"]?.int {
            out += ", shard \(number + 1) of \(count)"
        }
        out += ", \(model.metadata.count) metadata keys, \(model.tensors.count) tensors\n\nMETADATA:\n"
        for (key, value) in model.metadata {
            out += "  \(key) = \(text(value))\n"
        }
        out += "\nTENSORS:\n"
        let width = model.tensors.map(\.name.count).max() ?? 0
        for tensor in model.tensors {
            let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
            out += "  \(tensor.name.padding(toLength: width, withPad: " ", startingAt: 0))  "
                + "\(tensor.type.name.padding(toLength: 7, withPad: " ", startingAt: 0)) "
                + "\(shape.padding(toLength: 16, withPad: " ", startingAt: 0)) \(byteText(tensor.byteCount)) @ \(tensor.offset)\n"
        }
        out += "\nTOTALS:\n"
        var totals: [GGMLType: (count: Int, bytes: Int, elements: Int)] = [:]
        for tensor in model.tensors {
            totals[tensor.type, default: (0, 0, 0)].count += 1
            totals[tensor.type, default: (0, 0, 0)].bytes += tensor.byteCount
            totals[tensor.type, default: (0, 0, 0)].elements += tensor.elementCount
        }
        for (type, total) in totals.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            out += "  \(type.name.padding(toLength: 7, withPad: " ", startingAt: 0)) \(total.count) tensors, "
                + "\(total.elements) elements, \(byteText(total.bytes))\n"
        }
        let bytes = model.tensors.reduce(0) { $0 + $1.byteCount }
        let elements = model.tensors.reduce(0) { $0 + $1.elementCount }
        out += "  all     \(model.tensors.count) tensors, \(elements) elements, \(byteText(bytes))"
        if elements > 0 { out += String(format: ", %.2f bits per weight", Double(bytes) * 8 / Double(elements)) }
        return out + "\n"
    }

    /// A metadata value on one line; long arrays show their count and first few elements.
    static func text(_ value: MetadataValue) -> String {
        switch value {
        case let .string(s):
            let line = s.replacingOccurrences(of: "\n", with: "\\n")
            return line.count > 80 ? "\"\(line.prefix(77))...\" (\(s.count) characters)" : "\"\(line)\""
        case let .array(type, values):
            let shown = values.prefix(5).map(text).joined(separator: ", ")
            return values.count > 5 ? "[\(shown), ...] (\(values.count) \(type))" : "[\(shown)]"
        case let .float32(v): return "\(v)"
        case let .float64(v): return "\(v)"
        case let .bool(v): return v ? "true" : "false"
        default: return value.int.map(String.init) ?? "?"
        }
    }
}

/// `1.4 MiB`, `512 B`.
func byteText(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
}
