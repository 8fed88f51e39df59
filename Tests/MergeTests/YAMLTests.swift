import Foundation
import Testing
@testable import Merge

/// A mark-free rendering of a node, for comparing trees: plain scalars as their text, quoted and block
/// scalars wrapped in their indicator (`'…'`, `"…"`, `|…|`, `>…>`), line breaks as `⏎`, mappings as
/// `{k: v, …}`, sequences as `[…]`.
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

/// The error description for `text`, or nil when it parses.
private func failure(_ text: String) -> String? {
    do {
        _ = try YAML.parse(text, file: "t.yml")
        return nil
    } catch {
        return error.description
    }
}

// MARK: - Fixtures

@Test(arguments: [
    "breadcrumbs_ties.yml", "dare_linear.yml", "dare_ties.yml", "della.yml", "linear-nonorm.yml", "linear.yml",
    "model_stock.yml", "nuslerp.yml", "passthrough-slices.yml", "slerp-gradient.yml", "slerp.yml",
    "task_arithmetic.yml", "ties-gradient.yml", "ties.yml",
])
func everyMergeFixtureParses(_ name: String) throws {
    let root = try YAML.load(path: Fixture.path(name))
    #expect(root["merge_method"]?.string == name.replacingOccurrences(of: ".yml", with: "")
        .replacingOccurrences(of: "-nonorm", with: "").replacingOccurrences(of: "-gradient", with: "")
        .replacingOccurrences(of: "-slices", with: ""))
    #expect(root["dtype"]?.string == "float32")
}

@Test func tiesGradientFixtureTree() throws {
    let root = try YAML.load(path: Fixture.path("ties-gradient.yml"))
    #expect(shape(root) == "{models: [{model: a.gguf, parameters: {density: [1, 0.7, 0.1], weight: 1.0}}, "
        + "{model: b.gguf, parameters: {density: 0.5, weight: [0, 0.3, 0.7, 1]}}, "
        + "{model: c.gguf, parameters: {density: 0.33, weight: [{filter: mlp, value: 0.5}, {value: 0}]}}], "
        + "merge_method: ties, base_model: base.gguf, parameters: {normalize: true, int8_mask: true}, dtype: float32}")
    // Marks: `density:` of the first model is on line 4, column 7; its list at column 16.
    let density = try #require(root["models"]?.items?[0]["parameters"]?.pairs?[0])
    #expect(density.keyMark == Mark(line: 4, column: 7))
    #expect(density.value.mark == Mark(line: 4, column: 16))
    #expect(density.value.items?[2].mark == Mark(line: 4, column: 25))
}

@Test func slerpGradientFixtureTree() throws {
    let root = try YAML.load(path: Fixture.path("slerp-gradient.yml"))
    #expect(shape(root) == "{slices: [{sources: [{model: a.gguf, layer_range: [0, 3]}, {model: b.gguf, layer_range: [0, 3]}]}], "
        + "merge_method: slerp, base_model: a.gguf, parameters: {t: [{filter: self_attn, value: [0, 0.5, 1]}, "
        + "{filter: mlp, value: [1, 0.5, 0]}, {value: 0.5}]}, dtype: float32}")
}

// MARK: - Structure

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
    -
    empty:
    last: ~
    """
    #expect(try shape(parse(text)) == "{models: [{model: a.gguf, parameters: {weight: 0.7}}, {model: b.gguf}], "
        + "merge_method: linear, list: [x, y, [nested, more], [deeper], ], empty: , last: ~}")
}

@Test func sequenceAtTheIndentationOfItsKey() throws {
    // mergekit's orcamini-platy-44layer.yml writes `sources:` items at the key's own column.
    let text = """
    slices:
      - sources:
        - model: psmathur/orca_mini_v3_13b
          layer_range: [0, 24]
      - sources:
        - model: garage-bAInd/Platypus2-13B
          layer_range: [20, 40]
    merge_method: passthrough
    """
    #expect(try shape(parse(text)) == "{slices: [{sources: [{model: psmathur/orca_mini_v3_13b, layer_range: [0, 24]}]}, "
        + "{sources: [{model: garage-bAInd/Platypus2-13B, layer_range: [20, 40]}]}], merge_method: passthrough}")
}

@Test func flowCollections() throws {
    let text = """
    a: [1, 2.5, -3]
    b: {x: 1, y: [true, false], z: {deep: "q"}}
    c: [ [0, 1], {k: v}, 'it''s', ]
    d: []
    e: {}
    f: [a,
        b,   # comment inside
        c]
    g: {"json": 1, 'k2':2}
    h: [http://x.y/z, a:b]
    """
    #expect(try shape(parse(text)) == "{a: [1, 2.5, -3], b: {x: 1, y: [true, false], z: {deep: \"q\"}}, "
        + "c: [[0, 1], {k: v}, 'it's'], d: [], e: {}, f: [a, b, c], g: {json: 1, k2: 2}, h: [http://x.y/z, a:b]}")
}

@Test func scalarsAndComments() throws {
    let text = """
    # full-line comment
    plain: a b  c   # trailing comment
    hash: a#b
    colon: a:b
    url: http://example.com/x
    single: 'a # not a comment'
    double: "tab\\tnew\\nquote\\" slash\\\\ u\\u00e9 x\\x41 U\\U0001F600"
    empty_single: ''
    path: a.gguf+b.gguf
    "quoted key": 1
    'single key': 2
    folded_plain: first
      second

      third
    folded_double: "one
      two\\
      three"
    """
    #expect(try shape(parse(text)) == "{plain: a b  c, hash: a#b, colon: a:b, url: http://example.com/x, "
        + "single: 'a # not a comment', double: \"tab\tnew⏎quote\" slash\\ ué xA U😀\", empty_single: '', "
        + "path: a.gguf+b.gguf, quoted key: 1, single key: 2, folded_plain: first second⏎third, "
        + "folded_double: \"one twothree\"}")
}

@Test func blockScalars() throws {
    let text = """
    literal: |
      line one
        indented
      line three

    folded: >
      a
      b

      c
        kept
      d
    strip: |-
      x

    keep: |+
      y


    explicit: |2
        two extra
    after: 1
    """
    let root = try parse(text)
    #expect(root["literal"]?.string == "line one\n  indented\nline three\n")
    #expect(root["folded"]?.string == "a b\nc\n  kept\nd\n")
    #expect(root["strip"]?.string == "x")
    #expect(root["keep"]?.string == "y\n\n\n")
    #expect(root["explicit"]?.string == "  two extra\n")
    #expect(root["after"]?.int == 1)
    #expect(root["literal"]?.mark == Mark(line: 1, column: 10))
}

@Test func chatTemplateBlockScalar() throws {
    let text = """
    chat_template: |
      {% for message in messages %}
      {{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}
      {% endfor %}
    merge_method: linear
    """
    let root = try parse(text)
    #expect(root["chat_template"]?.string == "{% for message in messages %}\n{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}\n{% endfor %}\n")
    #expect(root["merge_method"]?.string == "linear")
}

@Test func documentMarkersAndStreams() throws {
    #expect(try shape(parse("---\na: 1\n...\n")) == "{a: 1}")
    #expect(try shape(parse("--- # first\na: 1\n---\nb: 2\n")) == "{a: 1}")
    #expect(try shape(parse("\n# only a comment\n")) == "")
    #expect(try shape(parse("--- [1, 2]\n")) == "[1, 2]")
    #expect(try shape(parse("\u{FEFF}a: 1\r\nb: 2\r\n")) == "{a: 1, b: 2}")
}

@Test func typedAccessors() throws {
    let root = try parse("""
    i: 12
    n: -3
    hex: 0x1F
    f: 0.5
    dot: .5
    exp: 1e-5
    exp2: 2.5E+3
    trailing: 1.
    inf: .inf
    t: true
    T: True
    F: FALSE
    null1: null
    null2: ~
    null3:
    quoted_number: "1"
    word: abc
    """)
    #expect(root["i"]?.int == 12 && root["n"]?.int == -3 && root["hex"]?.int == 31)
    #expect(root["f"]?.number == 0.5 && root["dot"]?.number == 0.5 && root["exp"]?.number == 1e-5)
    #expect(root["exp2"]?.number == 2500 && root["trailing"]?.number == 1 && root["inf"]?.number == .infinity)
    #expect(root["f"]?.int == nil)
    #expect(root["t"]?.bool == true && root["T"]?.bool == true && root["F"]?.bool == false)
    #expect(root["null1"]?.isNull == true && root["null2"]?.isNull == true && root["null3"]?.isNull == true)
    #expect(root["quoted_number"]?.number == nil && root["quoted_number"]?.string == "1")
    #expect(root["word"]?.number == nil && root["word"]?.bool == nil && root["word"]?.isNull == false)
}

// MARK: - Errors, with their exact positions

@Test(arguments: [
    // Tabs in indentation.
    ("a:\n\tb: 1\n", "t.yml:2:1: tab character in indentation (use spaces)"),
    ("a:\n  \tb: 1\n", "t.yml:2:3: tab character in indentation (use spaces)"),
    // Bad indentation.
    ("a: 1\n  b: 2\n", "t.yml:2:3: bad indentation of a mapping entry (expected column 1)"),
    ("models:\n  - model: a\n    parameters:\n      weight: 1\n     - model: b\n",
     "t.yml:5:6: bad indentation of a mapping entry (expected column 5)"),
    ("l:\n  - a\n   b: 1\n", "t.yml:3:4: bad indentation of a list item (expected column 3)"),
    ("a:\n  b: 1\n c: 2\n", "t.yml:3:2: bad indentation of a mapping entry (expected column 1)"),
    ("a: b: c\n", "t.yml:1:5: mapping values are not allowed here; start a nested mapping on a new, more indented line"),
    ("a: - b\n", "t.yml:1:4: a list cannot start on the line of its key; put '- ' items on the following lines"),
    ("a: 1\n- b\n", "t.yml:2:1: expected a mapping key, found a list item (check the indentation)"),
    ("a: 1\nfoo\n", "t.yml:2:4: expected ':' after mapping key 'foo'"),
    ("- a\nb: 1\n", "t.yml:2:1: unexpected content after the document's root node (check the indentation)"),
    // Unclosed quotes and brackets (reported where they open).
    ("a: \"abc\nb: 1\n", "t.yml:1:4: unclosed double-quoted string (missing '\"')"),
    ("a: 'abc\n", "t.yml:1:4: unclosed single-quoted string (missing \"'\")"),
    ("a: [1, 2\nb: 3\n", "t.yml:1:4: unclosed '[' (no matching ']')"),
    ("a: {x: [1, 2]\n", "t.yml:1:4: unclosed '{' (no matching '}')"),
    ("a: [1, 2}\n", "t.yml:1:9: expected ',' or ']' in the list started at 1:4"),
    ("a: {x: 1]\n", "t.yml:1:9: expected ',' or '}' in the mapping started at 1:4"),
    ("a: [1, 2] x\n", "t.yml:1:11: unexpected text after ']'"),
    ("a: \"x\" y\n", "t.yml:1:8: unexpected text after the quoted string"),
    ("a: \"\\q\"\n", "t.yml:1:5: unknown escape '\\q' in double-quoted string"),
    // Duplicate keys.
    ("a: 1\nb: 2\na: 3\n", "t.yml:3:1: duplicate key 'a' (first defined at 1:1)"),
    ("m:\n  - x: 1\n    x: 2\n", "t.yml:3:5: duplicate key 'x' (first defined at 2:5)"),
    ("a: {k: 1, k: 2}\n", "t.yml:1:11: duplicate key 'k' (first defined at 1:5)"),
    // Features ggufmerge does not read.
    ("a: &anchor 1\n", "t.yml:1:4: anchors ('&name') are not supported"),
    ("a: *anchor\n", "t.yml:1:4: aliases ('*name') are not supported"),
    ("a: !!float 1\n", "t.yml:1:4: tags ('!tag') are not supported"),
    ("- !custom x\n", "t.yml:1:3: tags ('!tag') are not supported"),
    ("%YAML 1.2\n---\na: 1\n", "t.yml:1:1: directives ('%…') are not supported"),
    ("? a\n: b\n", "t.yml:1:1: complex mapping keys ('? ') are not supported"),
    ("a: [x: 1]\n", "t.yml:1:6: mappings inside flow lists ('[a: 1]') are not supported; write '[{a: 1}]'"),
    ("a: |x\n  b\n", "t.yml:1:5: invalid block scalar header (expected '|' or '>' with optional '-', '+' or an indentation digit)"),
    ("a: @x\n", "t.yml:1:4: '@' is reserved and cannot start a plain scalar; quote the value"),
])
func malformedYAMLIsReportedWithItsPosition(_ text: String, _ expected: String) {
    #expect(failure(text) == expected)
}

@Test func errorKinds() {
    #expect(throws: ConfigError.unsupported(file: "t.yml", at: Mark(line: 1, column: 4), message: "anchors ('&name') are not supported")) {
        try YAML.parse("a: &x 1", file: "t.yml")
    }
    #expect(throws: ConfigError.syntax(file: "t.yml", at: Mark(line: 1, column: 4), message: "unclosed '[' (no matching ']')")) {
        try YAML.parse("a: [1", file: "t.yml")
    }
}

@Test func unreadableFile() {
    #expect(throws: ConfigError.self) { try YAML.load(path: "/nonexistent/config.yml") }
}

/// Found by the config fuzzer (scripts/fuzz/findings): a block scalar header on the text's last line,
/// with no newline after it, made the parser read that line again for ever.
@Suite struct YAMLFuzzFindingTests {
    @Test func blockScalarHeaderOnTheLastLineEnds() throws {
        let finding = try String(contentsOfFile: #filePath.replacingOccurrences(of: "Tests/MergeTests/YAMLTests.swift",
                                                                                with: "scripts/fuzz/findings/yaml-hang-folded-after-comment.yml"),
                                 encoding: .utf8)
        // It parses (an empty folded scalar: `#…` after the header is a comment), and returns.
        let node = try YAML.parse(finding, file: "t.yml")
        #expect(shape(node).hasPrefix("{slices: {"))
        #expect(shape(try parse("a: >")) == "{a: >>}")
    }
}
