import Foundation
import GGUF

/// `ggufmerge inspect FILE [--all] [--json]`: what a GGUF file (or, with `--all`, a whole split model)
/// holds.
enum InspectCommand: Command {
    static let spec = CommandSpec(
        name: "inspect",
        abstract: "Show a GGUF file's header, metadata and tensors.",
        usage: "ggufmerge inspect <file> [--all] [--json] [-q]",
        arguments: [("<file>", "A .gguf file (a shard of a split model shows that shard, split.* keys included).")],
        options: [.init(names: ["--all"], help: "For a shard of a split model: list the whole model (every shard's tensors, each with its shard)."),
                  .init(names: ["--json"], help: "Print one JSON document (arrays in full)."),
                  .init(names: ["-q", "--quiet"], help: "Print nothing: only check that the file is valid (exit 0) or not (exit 2).")])

    static func run(_ arguments: ParsedArguments) throws {
        guard arguments.positionals.count == 1 else {
            throw UsageError(command: spec, message: arguments.positionals.isEmpty ? "missing <file>" : "expected one file")
        }
        let path = arguments.positionals[0]
        let listing = arguments.flag("--all") ? Listing(try GGUFModel(path: path)) : Listing(try GGUFFile(path: path))
        if arguments.flag("--quiet") { return }
        if arguments.flag("--json") {
            print(json(listing).text)
        } else {
            print(summary(listing), terminator: "")
        }
    }

    /// What is listed: one file, or every shard of a model (tensors then name their shard).
    struct Listing {
        var path: String
        var version: UInt32
        var alignment: Int
        /// The shards' paths, when more than one file is listed (a split model with `--all`).
        var shards: [String]?
        var metadata: Metadata
        var tensors: [(tensor: TensorInfo, shard: Int?)]

        init(_ file: GGUFFile) {
            path = file.path
            version = file.version
            alignment = file.alignment
            metadata = file.metadata
            tensors = file.tensors.map { ($0, nil) }
        }

        init(_ model: GGUFModel) {
            self.init(model.files[0])
            guard model.files.count > 1 else { return }
            shards = model.files.map(\.path)
            metadata = model.metadata
            tensors = model.files.enumerated().flatMap { shard, file in file.tensors.map { ($0, shard) } }
        }
    }

    static func json(_ listing: Listing) -> JSON {
        var fields: [(String, JSON)] = [
            ("version", .uint(UInt64(listing.version))),
            ("alignment", .int(Int64(listing.alignment))),
        ]
        if let shards = listing.shards { fields.append(("shards", .array(shards.map { .string($0) }))) }
        fields.append(("metadata", .object(listing.metadata.map { ($0.key, json($0.value)) })))
        fields.append(("tensors", .array(listing.tensors.map { tensor, shard in
            var entry: [(String, JSON)] = [
                ("name", .string(tensor.name)),
                ("type", .string(tensor.type.name)),
                ("shape", .array(tensor.shape.map { .int(Int64($0)) })),
            ]
            if let shard { entry.append(("shard", .int(Int64(shard + 1)))) }
            entry += [("offset", .int(Int64(tensor.offset))), ("bytes", .int(Int64(tensor.byteCount)))]
            return .object(entry)
        })))
        return .object(fields)
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

    static func summary(_ listing: Listing) -> String {
        var out = "\(listing.path)\n  GGUF v\(listing.version), alignment \(listing.alignment)"
        if let shards = listing.shards {
            out += ", \(shards.count) shards (the whole model)"
        } else if let number = listing.metadata["split.no"]?.int, let count = listing.metadata["split.count"]?.int {
            out += ", shard \(number + 1) of \(count)"
        }
        out += ", \(listing.metadata.count) metadata keys, \(listing.tensors.count) tensors\n"
        if let shards = listing.shards {
            out += "\nSHARDS:\n" + shards.enumerated().map { "  \($0 + 1): \($1)\n" }.joined()
        }
        out += "\nMETADATA:\n"
        for (key, value) in listing.metadata {
            out += "  \(key) = \(text(value))\n"
        }
        out += "\nTENSORS:\n"
        let width = listing.tensors.map(\.tensor.name.count).max() ?? 0
        for (tensor, shard) in listing.tensors {
            let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
            out += "  \(tensor.name.padding(toLength: width, withPad: " ", startingAt: 0))  "
                + "\(tensor.type.name.padding(toLength: 7, withPad: " ", startingAt: 0)) "
                + "\(shape.padding(toLength: 16, withPad: " ", startingAt: 0)) \(byteText(tensor.byteCount)) @ "
                + (shard.map { "shard \($0 + 1) " } ?? "") + "\(tensor.offset)\n"
        }
        out += "\nTOTALS:\n"
        let tensors = listing.tensors.map(\.tensor)
        var totals: [GGMLType: (count: Int, bytes: Int, elements: Int)] = [:]
        for tensor in tensors {
            totals[tensor.type, default: (0, 0, 0)].count += 1
            totals[tensor.type, default: (0, 0, 0)].bytes += tensor.byteCount
            totals[tensor.type, default: (0, 0, 0)].elements += tensor.elementCount
        }
        for (type, total) in totals.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            out += "  \(type.name.padding(toLength: 7, withPad: " ", startingAt: 0)) \(total.count) tensors, "
                + "\(total.elements) elements, \(byteText(total.bytes))\n"
        }
        let bytes = tensors.reduce(0) { $0 + $1.byteCount }
        let elements = tensors.reduce(0) { $0 + $1.elementCount }
        out += "  all     \(tensors.count) tensors, \(elements) elements, \(byteText(bytes))"
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
