import Foundation
import Testing
@testable import Merge

/// Builders for expected trees (marks are checked separately where they matter).
private func s(_ text: String) -> Plain { Plain(text) }
private struct Plain { var text: String; init(_ text: String) { self.text = text } }

/// A mark-free rendering of a node, for comparing trees: scalars as their text with a style sigil,
/// mappings as `{k: v, …}`, sequences as `[…]`.
func shape(_ node: YAMLNode) -> String {
    switch node {
    case let .scalar(text, style, _):
        let sigil = switch style {
        case .plain: ""
        case .singleQuoted: "'"
        case .doubleQuoted: "\""
        case .literal: "|"
        case .folded: ">"
        }
        return sigil + text.replacingOccurrences(of: "\n", with: "⏎") + sigil
    case let .mapping(pairs, _):
        return "{" + pairs.map { "\($0.key): \(shape($0.value))" }.joined(separator: ", ") + "}"
    case let .sequence(items, _):
        return "[" + items.map(shape).joined(separator: ", ") + "]"
    }
}

private func parse(_ text: String) throws -> YAMLNode { try YAML.parse(text, file: "t.yml") }

private func error(_ text: String) -> String? {
    do {
        _ = try YAML.parse(text, file: "t.yml")
        return nil
    } catch {
        return error.description
    }
}

@Test func blockMappingsAndSequences() throws {
    let text = """
    models:
      - model: a.gguf
        parameters:
          weight: 0.7
      - model: b.gguf
    merge_method: linear
    list:
    - x
    -   y
    - - nested
      - more
    -
      - deeper
    empty:
    last: ~
    """
    #expect(try shape(parse(text)) == "{models: [{model: a.gguf, parameters: {weight: 0.7}}, {model: b.gguf}], merge_method: linear, list: [x, y, [nested, more], [deeper]], empty: , last: ~}")
}
