import GGUF

/// A GGUF tokenizer's vocabulary: `tokenizer.ggml.tokens` with their `scores`, `token_type` and the
/// BPE `merges`, as llama.cpp's converter writes them.
///
/// Padding rows (`[PAD<i>]` tokens of type UNUSED, which `convert_hf_to_gguf.py` adds when a model's
/// `vocab_size` exceeds its tokenizer) are not tokens: like the tokenizer mergekit loads, a vocabulary
/// holds only the tokens before them.
public struct Vocabulary: Sendable, Equatable {
    public var tokens: [String]
    public var scores: [Float]
    public var types: [Int32]
    public var merges: [String]
    /// Token → id (the first id when a text appears twice).
    public private(set) var ids: [String: Int]

    /// llama.cpp's `llama_token_type` values used here.
    public enum TokenType {
        public static let normal: Int32 = 1
        public static let control: Int32 = 3
        public static let userDefined: Int32 = 4
        public static let unused: Int32 = 5
    }

    public init(tokens: [String], scores: [Float], types: [Int32], merges: [String] = []) {
        self.tokens = tokens
        self.scores = scores
        self.types = types
        self.merges = merges
        ids = [:]
        for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = id }
    }

    /// The vocabulary in `metadata`, nil when it has no `tokenizer.ggml.tokens`.
    public init?(metadata: Metadata) {
        guard let tokens = metadata["tokenizer.ggml.tokens"]?.array?.compactMap(\.string) else { return nil }
        let scores = metadata["tokenizer.ggml.scores"]?.array?.map { Float($0.double ?? 0) }
        let types = metadata["tokenizer.ggml.token_type"]?.array?.map { Int32($0.int ?? Int(TokenType.normal)) }
        var count = tokens.count
        while count > 0, Self.isPadding(tokens[count - 1], type: types?[count - 1]) { count -= 1 }
        self.init(tokens: Array(tokens.prefix(count)),
                  scores: Array((scores ?? []).prefix(count)) + [Float](repeating: 0, count: max(0, count - (scores?.count ?? 0))),
                  types: Array((types ?? []).prefix(count)) + [Int32](repeating: TokenType.normal, count: max(0, count - (types?.count ?? 0))),
                  merges: metadata["tokenizer.ggml.merges"]?.array?.compactMap(\.string) ?? [])
    }

    /// `[PAD12]` of type UNUSED: a row `convert_hf_to_gguf.py` added beyond the tokenizer.
    static func isPadding(_ token: String, type: Int32?) -> Bool {
        type == TokenType.unused && token.hasPrefix("[PAD") && token.hasSuffix("]")
            && token.dropFirst(4).dropLast().allSatisfy(\.isNumber)
    }

    public var count: Int { tokens.count }

    mutating func append(_ token: String, score: Float, type: Int32) {
        if ids[token] == nil { ids[token] = tokens.count }
        tokens.append(token)
        scores.append(score)
        types.append(type)
    }

    /// HF's added tokens in GGUF terms: control and user-defined tokens.
    func isAdded(_ id: Int) -> Bool { types[id] == TokenType.control || types[id] == TokenType.userDefined }

    /// mergekit's `build_union_tokenizer`: the first vocabulary, then every regular token the others
    /// have and it lacks (in order), then every added token (control or user-defined) it lacks; each
    /// new token keeps the score and type of the first vocabulary that has it. Merges are the first's,
    /// then the others' new ones.
    public static func union(_ vocabularies: [Vocabulary]) -> Vocabulary {
        guard var result = vocabularies.first else { return Vocabulary(tokens: [], scores: [], types: []) }
        for added in [false, true] {
            for vocabulary in vocabularies.dropFirst() {
                for id in vocabulary.tokens.indices where vocabulary.isAdded(id) == added && result.ids[vocabulary.tokens[id]] == nil {
                    result.append(vocabulary.tokens[id], score: vocabulary.scores[id], type: vocabulary.types[id])
                }
            }
        }
        var known = Set(result.merges)
        for vocabulary in vocabularies.dropFirst() {
            for merge in vocabulary.merges where known.insert(merge).inserted { result.merges.append(merge) }
        }
        return result
    }

    /// Adds `[PAD<id>]` tokens (UNUSED, score -10000, as the converter names rows beyond a tokenizer)
    /// up to a multiple of `multiple`: mergekit's `pad_to_multiple_of`.
    public func padded(toMultipleOf multiple: Int?) -> (vocabulary: Vocabulary, realCount: Int) {
        var result = self
        if let multiple, multiple > 0 {
            while result.count % multiple != 0 {
                result.append("[PAD\(result.count)]", score: -10000, type: TokenType.unused)
            }
        }
        return (result, count)
    }

    /// Writes the vocabulary into `metadata`, replacing the arrays in place of the old ones and mapping
    /// the special token ids (`tokenizer.ggml.*_token_id`) of `specials` to this vocabulary by text.
    public func write(into metadata: inout Metadata, specialsFrom specials: Metadata, specialsVocabulary: Vocabulary?) {
        let replaced: [(String, MetadataValue)] = [
            ("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) })),
            ("tokenizer.ggml.scores", .array(.float32, scores.map { .float32($0) })),
            ("tokenizer.ggml.token_type", .array(.int32, types.map { .int32($0) })),
        ] + (merges.isEmpty ? [] : [("tokenizer.ggml.merges", .array(.string, merges.map { .string($0) }))])
        var rebuilt = Metadata()
        for (key, value) in metadata {
            if let new = replaced.first(where: { $0.0 == key }) {
                rebuilt.set(key, new.1)
            } else if key.hasPrefix("tokenizer.ggml."), key.hasSuffix("_token_id") {
                continue
            } else {
                rebuilt.set(key, value)
            }
        }
        for (key, value) in replaced where !rebuilt.contains(key) { rebuilt.set(key, value) }
        for (key, value) in specials where key.hasPrefix("tokenizer.ggml.") && key.hasSuffix("_token_id") {
            guard let id = value.int, let text = specialsVocabulary?.tokens[safe: id], let newID = ids[text] else { continue }
            rebuilt.set(key, .uint32(UInt32(newID)))
        }
        metadata = rebuilt
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
