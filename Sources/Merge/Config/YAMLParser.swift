/// The recursive-descent reader behind `YAML.parse`: one pass over the text's Unicode scalars, tracking
/// line and column, with indentation handled as YAML's block structure requires.
struct YAMLParser {
    private let text: [Unicode.Scalar]
    private let file: String
    private var index = 0
    private var line = 1
    private var lineStart = 0

    init(_ source: String, file: String) {
        var scalars = Array(source.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        // Line breaks: CRLF and lone CR read as LF (columns stay right: CR is never counted).
        var normalized: [Unicode.Scalar] = []
        normalized.reserveCapacity(scalars.count)
        var position = 0
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar == "\r" {
                normalized.append("\n")
                if position + 1 < scalars.count, scalars[position + 1] == "\n" { position += 1 }
            } else {
                normalized.append(scalar)
            }
            position += 1
        }
        self.text = normalized
        self.file = file
    }

    /// Where a node starts in block context.
    private enum Context {
        /// The document's root.
        case root
        /// After `key: ` on the key's line.
        case mappingValueInline
        /// After `- ` on the item's line.
        case sequenceItemInline
        /// On a line of its own, more indented than its parent.
        case nextLine
    }

    // MARK: Document

    mutating func parseDocument() throws(ConfigError) -> YAMLNode {
        try skipToContent()
        if index < text.count, column == 1, text[index] == "%" {
            throw unsupported("directives ('%…') are not supported")
        }
        if atMarker("---") {
            advance(3)
            try skipToContent()
        }
        if atDocumentEnd {
            return .scalar("", .plain, Mark(line: 1, column: 1))
        }
        let root = try parseBlockNode(parentIndent: -1, context: .root)
        try skipToContent()
        if !atDocumentEnd {
            throw syntax("unexpected content after the document's root node (check the indentation)")
        }
        return root
    }

    /// Every document of the stream, in order (empty ones included, as null scalars).
    mutating func parseStream() throws(ConfigError) -> [YAMLNode] {
        var documents: [YAMLNode] = []
        repeat {
            documents.append(try parseDocument())
            if atMarker("...") {
                advance(3)
                try skipToContent()
            }
        } while index < text.count
        return documents
    }

    // MARK: Block structure

    private mutating func parseBlockNode(parentIndent: Int, context: Context) throws(ConfigError) -> YAMLNode {
        let start = mark
        let indent = column - 1
        let c = text[index]
        switch c {
        case "-" where isBlankOrEnd(at: index + 1):
            if context == .mappingValueInline {
                throw syntax("a list cannot start on the line of its key; put '- ' items on the following lines")
            }
            return try parseBlockSequence(indent: indent)
        case "[", "{":
            let node = try parseFlowNode()
            try skipInlineSpaces()
            if peek() == ":" && isBlankOrEnd(at: index + 1) {
                throw unsupported("flow collections as mapping keys are not supported")
            }
            try expectLineEnd(after: c == "[" ? "']'" : "'}'")
            return node
        case "|", ">":
            return try parseBlockScalar(parentIndent: parentIndent)
        case "'", "\"":
            let (value, multiline) = try parseQuoted()
            try skipInlineSpaces()
            if peek() == ":" && isBlankOrEnd(at: index + 1) {
                if multiline { throw syntax("a mapping key must be on a single line", at: start) }
                return try parseBlockMapping(indent: indent, firstKey: value, keyMark: start, context: context)
            }
            try expectLineEnd(after: "the quoted string")
            return .scalar(value, c == "'" ? .singleQuoted : .doubleQuoted, start)
        default:
            try rejectIndicator()
            let first = scanPlainLine(flow: false)
            if peek() == ":" && isBlankOrEnd(at: index + 1) {
                return try parseBlockMapping(indent: indent, firstKey: first, keyMark: start, context: context)
            }
            let value = try continuePlain(first, parentIndent: parentIndent)
            return .scalar(value, .plain, start)
        }
    }

    /// A block mapping whose first key has been read; positioned at that key's `:`.
    private mutating func parseBlockMapping(indent: Int, firstKey: String, keyMark: Mark,
                                            context: Context) throws(ConfigError) -> YAMLNode {
        if context == .mappingValueInline {
            throw syntax("mapping values are not allowed here; start a nested mapping on a new, more indented line")
        }
        var pairs: [YAMLNode.Pair] = []
        var seen: [String: Mark] = [:]
        var key = firstKey
        var currentKeyMark = keyMark
        while true {
            advance(1) // ':'
            let value = try parseMappingValue(indent: indent)
            if let first = seen[key] {
                throw ConfigError.syntax(file: file, at: currentKeyMark,
                                         message: "duplicate key '\(key)' (first defined at \(first))")
            }
            seen[key] = currentKeyMark
            pairs.append(YAMLNode.Pair(key: key, keyMark: currentKeyMark, value: value))

            try skipToContent()
            if atDocumentEnd || column - 1 < indent { break }
            if column - 1 > indent { throw syntax("bad indentation of a mapping entry (expected column \(indent + 1))") }
            currentKeyMark = mark
            key = try parseMappingKey()
        }
        return .mapping(pairs, keyMark)
    }

    /// Reads a key at the mapping's column and stops at its `:`.
    private mutating func parseMappingKey() throws(ConfigError) -> String {
        let start = mark
        let c = text[index]
        if c == "-" && isBlankOrEnd(at: index + 1) {
            throw syntax("expected a mapping key, found a list item (check the indentation)")
        }
        let key: String
        if c == "'" || c == "\"" {
            let (value, multiline) = try parseQuoted()
            if multiline { throw syntax("a mapping key must be on a single line", at: start) }
            key = value
            try skipInlineSpaces()
        } else if c == "[" || c == "{" || c == "?" && isBlankOrEnd(at: index + 1) {
            throw unsupported("complex mapping keys are not supported")
        } else {
            try rejectIndicator()
            key = scanPlainLine(flow: false)
        }
        guard peek() == ":" && isBlankOrEnd(at: index + 1) else {
            throw syntax("expected ':' after mapping key '\(key)'")
        }
        return key
    }

    /// The value after `key:`; positioned just after the colon.
    private mutating func parseMappingValue(indent: Int) throws(ConfigError) -> YAMLNode {
        let afterColon = mark
        try skipInlineSpaces()
        if !atLineEndOrComment {
            return try parseBlockNode(parentIndent: indent, context: .mappingValueInline)
        }
        try skipToContent()
        if atDocumentEnd { return .scalar("", .plain, afterColon) }
        let nextIndent = column - 1
        if nextIndent > indent {
            return try parseBlockNode(parentIndent: indent, context: .nextLine)
        }
        if nextIndent == indent, text[index] == "-", isBlankOrEnd(at: index + 1) {
            return try parseBlockSequence(indent: indent)
        }
        return .scalar("", .plain, afterColon)
    }

    /// A block sequence whose `-` indicators are at `indent`; positioned at the first `-`.
    private mutating func parseBlockSequence(indent: Int) throws(ConfigError) -> YAMLNode {
        let start = mark
        var items: [YAMLNode] = []
        while true {
            let itemMark = mark
            advance(1) // '-'
            try skipInlineSpaces()
            if atLineEndOrComment {
                try skipToContent()
                if atDocumentEnd || column - 1 <= indent {
                    items.append(.scalar("", .plain, itemMark))
                } else {
                    items.append(try parseBlockNode(parentIndent: indent, context: .nextLine))
                }
            } else {
                items.append(try parseBlockNode(parentIndent: indent, context: .sequenceItemInline))
            }
            try skipToContent()
            if atDocumentEnd || column - 1 < indent { break }
            if column - 1 > indent { throw syntax("bad indentation of a list item (expected column \(indent + 1))") }
            guard text[index] == "-", isBlankOrEnd(at: index + 1) else { break }
        }
        return .sequence(items, start)
    }

    // MARK: Block scalars

    private mutating func parseBlockScalar(parentIndent: Int) throws(ConfigError) -> YAMLNode {
        let start = mark
        let folded = text[index] == ">"
        advance(1)
        var chomp: Character = " " // clip
        var explicitIndent: Int?
        for _ in 0 ..< 2 {
            guard let c = peek() else { break }
            if (c == "-" || c == "+") && chomp == " " {
                chomp = Character(c)
                advance(1)
            } else if c.value >= 0x31, c.value <= 0x39, explicitIndent == nil {
                let digit = Int(c.value - 0x30)
                explicitIndent = digit
                advance(1)
            }
        }
        try skipInlineSpaces()
        guard atLineEndOrComment else { throw syntax("invalid block scalar header (expected '|' or '>' with optional '-', '+' or an indentation digit)") }
        while let c = peek(), c != "\n" { advance(1) }
        if peek() == "\n" { advance(1) }

        // Content lines: find the block's indentation (explicit, or the first non-empty line's).
        var blockIndent = explicitIndent.map { max(parentIndent, 0) + $0 }
        var lines: [String] = []
        while index < text.count {
            var spaces = 0
            while index + spaces < text.count, text[index + spaces] == " " { spaces += 1 }
            let end = index + spaces
            let isEmpty = end >= text.count || text[end] == "\n"
            if blockIndent == nil && !isEmpty {
                if spaces <= parentIndent { break }
                if end < text.count, text[end] == "\t" {
                    throw syntax("tab character in indentation (use spaces)", at: Mark(line: line, column: spaces + 1))
                }
                blockIndent = spaces
            }
            if isEmpty {
                if let blockIndent, spaces > blockIndent {
                    lines.append(String(repeating: " ", count: spaces - blockIndent))
                } else {
                    lines.append("")
                }
            } else {
                guard let blockIndent, spaces >= blockIndent else { break }
                if column == 1, spaces == 0, atMarker("---") || atMarker("...") { break }
                var content = String.UnicodeScalarView()
                var position = index + blockIndent
                while position < text.count, text[position] != "\n" {
                    content.append(text[position])
                    position += 1
                }
                lines.append(String(content))
            }
            // Next line.
            while let c = peek(), c != "\n" { advance(1) }
            if peek() == "\n" { advance(1) } else { break }
        }
        // Lines read but not part of the scalar: rewind to the start of the current line. At the end
        // of the text (a last line without a newline) everything read was the scalar's: rewinding there
        // would parse its header again, for ever.
        if index < text.count { index = lineStart }

        // Trailing empty lines are chomped; an empty line is "" (more-indented blank lines keep spaces).
        var trailing = 0
        while let last = lines.last, last.isEmpty {
            lines.removeLast()
            trailing += 1
        }
        var result = ""
        var pendingEmpty = 0
        var previousMoreIndented = false
        var hasContent = false
        for content in lines {
            if content.isEmpty {
                pendingEmpty += 1
                continue
            }
            let moreIndented = content.first == " " || content.first == "\t"
            if !hasContent {
                result += String(repeating: "\n", count: pendingEmpty)
            } else if folded && !moreIndented && !previousMoreIndented {
                result += pendingEmpty == 0 ? " " : String(repeating: "\n", count: pendingEmpty)
            } else {
                result += String(repeating: "\n", count: pendingEmpty + 1)
            }
            result += content
            hasContent = true
            previousMoreIndented = moreIndented
            pendingEmpty = 0
        }
        trailing += pendingEmpty
        switch chomp {
        case "-": break
        case "+": result += hasContent ? String(repeating: "\n", count: trailing + 1) : String(repeating: "\n", count: trailing)
        default: if hasContent { result += "\n" }
        }
        return .scalar(result, folded ? .folded : .literal, start)
    }

    // MARK: Flow collections

    private mutating func parseFlowNode() throws(ConfigError) -> YAMLNode {
        let start = mark
        guard let c = peek() else { throw syntax("expected a value") }
        switch c {
        case "[":
            advance(1)
            var items: [YAMLNode] = []
            while true {
                try skipFlowSpace(open: "[", at: start)
                if peek() == "]" { advance(1); break }
                items.append(try parseFlowNode())
                try skipFlowSpace(open: "[", at: start)
                if peek() == ":" {
                    throw unsupported("mappings inside flow lists ('[a: 1]') are not supported; write '[{a: 1}]'")
                }
                if peek() == "," { advance(1); continue }
                if peek() == "]" { advance(1); break }
                throw start.line == line ? syntax("expected ',' or ']' in the list started at \(start)")
                    : syntax("unclosed '[' (no matching ']')", at: start)
            }
            return .sequence(items, start)
        case "{":
            advance(1)
            var pairs: [YAMLNode.Pair] = []
            var seen: [String: Mark] = [:]
            while true {
                try skipFlowSpace(open: "{", at: start)
                if peek() == "}" { advance(1); break }
                let keyMark = mark
                let keyNode = try parseFlowNode()
                guard case let .scalar(key, _, _) = keyNode else {
                    throw unsupported("complex mapping keys are not supported", at: keyMark)
                }
                try skipFlowSpace(open: "{", at: start)
                var value = YAMLNode.scalar("", .plain, mark)
                if peek() == ":" {
                    advance(1)
                    try skipFlowSpace(open: "{", at: start)
                    if peek() != "," && peek() != "}" {
                        value = try parseFlowNode()
                    }
                    try skipFlowSpace(open: "{", at: start)
                }
                if let first = seen[key] {
                    throw ConfigError.syntax(file: file, at: keyMark,
                                             message: "duplicate key '\(key)' (first defined at \(first))")
                }
                seen[key] = keyMark
                pairs.append(YAMLNode.Pair(key: key, keyMark: keyMark, value: value))
                if peek() == "," { advance(1); continue }
                if peek() == "}" { advance(1); break }
                throw start.line == line ? syntax("expected ',' or '}' in the mapping started at \(start)")
                    : syntax("unclosed '{' (no matching '}')", at: start)
            }
            return .mapping(pairs, start)
        case "'", "\"":
            let (value, _) = try parseQuoted()
            return .scalar(value, c == "'" ? .singleQuoted : .doubleQuoted, start)
        case "]", "}", ",":
            throw syntax("expected a value, found '\(c)'")
        default:
            try rejectIndicator()
            let value = scanPlainLine(flow: true)
            if value.isEmpty { throw syntax("expected a value, found '\(c)'") }
            return .scalar(value, .plain, start)
        }
    }

    /// Skips spaces, line breaks and comments inside a flow collection; EOF means it was never closed.
    private mutating func skipFlowSpace(open: Character, at start: Mark) throws(ConfigError) {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" {
                advance(1)
            } else if c == "#" {
                while let c = peek(), c != "\n" { advance(1) }
            } else {
                return
            }
        }
        throw syntax("unclosed '\(open)' (no matching '\(open == "[" ? "]" : "}")')", at: start)
    }

    // MARK: Scalars

    /// Reads a quoted scalar starting at its quote; returns its value and whether it spanned lines.
    private mutating func parseQuoted() throws(ConfigError) -> (String, Bool) {
        let start = mark
        let quote = text[index]
        let double = quote == "\""
        advance(1)
        var result = String.UnicodeScalarView()
        var multiline = false
        while true {
            guard let c = peek() else {
                throw syntax("unclosed \(double ? "double" : "single")-quoted string (missing \(double ? "'\"'" : "\"'\""))", at: start)
            }
            if c == quote {
                if !double, peek(1) == "'" {
                    result.append("'")
                    advance(2)
                    continue
                }
                advance(1)
                return (String(result), multiline)
            }
            if double && c == "\\" {
                let escapeMark = mark
                advance(1)
                guard let e = peek() else { continue }
                if e == "\n" {
                    // Escaped line break: joins lines without a space.
                    advance(1)
                    multiline = true
                    while let s = peek(), s == " " || s == "\t" { advance(1) }
                    continue
                }
                advance(1)
                switch e {
                case "0": result.append("\0")
                case "a": result.append("\u{07}")
                case "b": result.append("\u{08}")
                case "t", "\t": result.append("\t")
                case "n": result.append("\n")
                case "v": result.append("\u{0B}")
                case "f": result.append("\u{0C}")
                case "r": result.append("\r")
                case "e": result.append("\u{1B}")
                case " ": result.append(" ")
                case "\"": result.append("\"")
                case "/": result.append("/")
                case "\\": result.append("\\")
                case "N": result.append("\u{85}")
                case "_": result.append("\u{A0}")
                case "L": result.append("\u{2028}")
                case "P": result.append("\u{2029}")
                case "x", "u", "U":
                    let length = e == "x" ? 2 : e == "u" ? 4 : 8
                    var value: UInt32 = 0
                    for _ in 0 ..< length {
                        guard let h = peek(), let digit = Character(h).hexDigitValue else {
                            throw syntax("invalid escape '\\\(e)': expected \(length) hexadecimal digits", at: escapeMark)
                        }
                        value = value << 4 | UInt32(digit)
                        advance(1)
                    }
                    guard let scalar = Unicode.Scalar(value) else {
                        throw syntax("invalid escape: U+\(String(value, radix: 16, uppercase: true)) is not a Unicode scalar", at: escapeMark)
                    }
                    result.append(scalar)
                default:
                    throw syntax("unknown escape '\\\(e)' in double-quoted string", at: escapeMark)
                }
                continue
            }
            if c == "\n" || c == " " || c == "\t" {
                // Whitespace: kept unless it ends a line, where the line break folds.
                var run = String.UnicodeScalarView()
                while let s = peek(), s == " " || s == "\t" { run.append(s); advance(1) }
                guard peek() == "\n" else {
                    result.append(contentsOf: run)
                    continue
                }
                multiline = true
                var breaks = 0
                while peek() == "\n" {
                    advance(1)
                    breaks += 1
                    while let s = peek(), s == " " || s == "\t" { advance(1) }
                }
                if column == 1, atMarker("---") || atMarker("...") {
                    throw syntax("unclosed \(double ? "double" : "single")-quoted string (missing \(double ? "'\"'" : "\"'\""))", at: start)
                }
                if breaks == 1 {
                    result.append(" ")
                } else {
                    for _ in 1 ..< breaks { result.append("\n") }
                }
                continue
            }
            result.append(c)
            advance(1)
        }
    }

    /// Reads a plain scalar up to the end of its first line, a `: ` (a key), or a ` #` comment, and
    /// returns it without trailing blanks. In flow context it also stops at `,[]{}`.
    private mutating func scanPlainLine(flow: Bool) -> String {
        let start = index
        var end = index
        while let c = peek() {
            if c == "\n" { break }
            if c == ":" {
                let next = peek(1)
                if next == nil || next == " " || next == "\t" || next == "\n" { break }
                if flow, let next, ",[]{}".unicodeScalars.contains(next) { break }
            }
            if flow, ",[]{}".unicodeScalars.contains(c) { break }
            if c == "#", index > start, text[index - 1] == " " || text[index - 1] == "\t" { break }
            advance(1)
            if c != " " && c != "\t" { end = index }
        }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: text[start ..< end])
        return String(result)
    }

    /// Multi-line plain scalars: following lines indented more than the parent fold into the value
    /// (one space per line break, `\n` per empty line). A line that looks like `key: value` does not
    /// continue the scalar (the caller then reports the bad indentation); a comment ends it.
    private mutating func continuePlain(_ first: String, parentIndent: Int) throws(ConfigError) -> String {
        var value = first
        while peek() == "\n" {
            let save = (index, line, lineStart)
            var breaks = 0
            while peek() == "\n" {
                advance(1)
                breaks += 1
                while let s = peek(), s == " " || s == "\t" { advance(1) }
            }
            guard let c = peek(), column - 1 > parentIndent, c != "#",
                  !(column == 1 && (atMarker("---") || atMarker("...")))
            else {
                (index, line, lineStart) = save
                return value
            }
            let piece = scanPlainLine(flow: false)
            if piece.isEmpty || (peek() == ":" && isBlankOrEnd(at: index + 1)) {
                (index, line, lineStart) = save
                return value
            }
            value += breaks == 1 ? " " : String(repeating: "\n", count: breaks - 1)
            value += piece
        }
        return value
    }

    /// Rejects characters that start YAML features ggufmerge does not read, or cannot start a scalar.
    private func rejectIndicator() throws(ConfigError) {
        guard let c = peek() else { return }
        switch c {
        case "&": throw unsupported("anchors ('&name') are not supported")
        case "*": throw unsupported("aliases ('*name') are not supported")
        case "!": throw unsupported("tags ('!tag') are not supported")
        case "?" where isBlankOrEnd(at: index + 1): throw unsupported("complex mapping keys ('? ') are not supported")
        case "@", "`": throw syntax("'\(c)' is reserved and cannot start a plain scalar; quote the value")
        case "%" where column == 1: throw unsupported("directives ('%…') are not supported")
        case "]", "}", ",": throw syntax("unexpected '\(c)'")
        default: return
        }
    }

    // MARK: Whitespace, comments, positions

    /// Skips spaces, comments and line breaks up to the next content (or the end). Tabs are allowed
    /// only on lines that have no content.
    private mutating func skipToContent() throws(ConfigError) {
        while let c = peek() {
            switch c {
            case " ":
                advance(1)
            case "\t":
                // A tab before any content on its line is indentation, unless the line is blank.
                let tabMark = mark
                let onlyIndentation = (lineStart ..< index).allSatisfy { text[$0] == " " || text[$0] == "\t" }
                var look = index
                while look < text.count, text[look] == " " || text[look] == "\t" { look += 1 }
                let blank = look >= text.count || text[look] == "\n" || text[look] == "#"
                if onlyIndentation && !blank {
                    throw syntax("tab character in indentation (use spaces)", at: tabMark)
                }
                advance(1)
            case "\n":
                advance(1)
            case "#":
                while let c = peek(), c != "\n" { advance(1) }
            default:
                return
            }
        }
    }

    /// Skips spaces and tabs on the current line.
    private mutating func skipInlineSpaces() throws(ConfigError) {
        while let c = peek(), c == " " || c == "\t" { advance(1) }
    }

    /// Requires the rest of the line to be blank or a comment.
    private mutating func expectLineEnd(after what: String) throws(ConfigError) {
        try skipInlineSpaces()
        guard atLineEndOrComment else { throw syntax("unexpected text after \(what)") }
    }

    private var atLineEndOrComment: Bool {
        guard let c = peek() else { return true }
        return c == "\n" || c == "#"
    }

    private var atDocumentEnd: Bool {
        index >= text.count || (column == 1 && (atMarker("---") || atMarker("...")))
    }

    private func atMarker(_ marker: String) -> Bool {
        let m = Array(marker.unicodeScalars)
        guard index + m.count <= text.count else { return false }
        for k in 0 ..< m.count where text[index + k] != m[k] { return false }
        return isBlankOrEnd(at: index + m.count)
    }

    private func isBlankOrEnd(at position: Int) -> Bool {
        position >= text.count || text[position] == " " || text[position] == "\t" || text[position] == "\n"
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < text.count ? text[index + offset] : nil
    }

    private mutating func advance(_ count: Int) {
        for _ in 0 ..< count where index < text.count {
            if text[index] == "\n" {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
    }

    private var column: Int { index - lineStart + 1 }
    private var mark: Mark { Mark(line: line, column: column) }

    private func syntax(_ message: String, at mark: Mark? = nil) -> ConfigError {
        .syntax(file: file, at: mark ?? self.mark, message: message)
    }

    private func unsupported(_ message: String, at mark: Mark? = nil) -> ConfigError {
        .unsupported(file: file, at: mark ?? self.mark, message: message)
    }
}
