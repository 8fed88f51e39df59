import Foundation
import GGUF
import Merge
import Testing

/// The output vocabulary built from GGUF tokenizers (mergekit's `build_union_tokenizer` in GGUF terms).
@Suite struct VocabularyTests {
    static func vocabulary(_ tokens: [(String, Int32)]) -> Vocabulary {
        Vocabulary(tokens: tokens.map(\.0), scores: tokens.indices.map { -Float($0) }, types: tokens.map(\.1))
    }

    @Test func unionAppendsRegularThenAddedTokens() {
        let n = Vocabulary.TokenType.normal, c = Vocabulary.TokenType.control, u = Vocabulary.TokenType.userDefined
        let base = Self.vocabulary([("<s>", c), ("a", n), ("b", n)])
        let chat = Self.vocabulary([("<s>", c), ("a", n), ("b", n), ("<|im_start|>", c), ("x", n)])
        let tool = Self.vocabulary([("<s>", c), ("a", n), ("<tool>", u), ("y", n), ("<|im_start|>", c)])
        let union = Vocabulary.union([base, chat, tool])
        #expect(union.tokens == ["<s>", "a", "b", "x", "y", "<|im_start|>", "<tool>"])
        // Each new token keeps the first donor's score and type.
        #expect(union.scores[3] == -4 && union.types[5] == c && union.scores[5] == -3 && union.types[6] == u)
        #expect(union.ids["<tool>"] == 6)
    }

    @Test func paddingRowsAreNotTokens() {
        let metadata: Metadata = [
            "tokenizer.ggml.tokens": .array(.string, ["a", "b", "[PAD2]", "[PAD3]"].map { .string($0) }),
            "tokenizer.ggml.token_type": .array(.int32, [1, 1, 5, 5].map { .int32($0) }),
        ]
        let vocabulary = Vocabulary(metadata: metadata)
        #expect(vocabulary?.tokens == ["a", "b"] && vocabulary?.scores == [0, 0])
        let (padded, real) = vocabulary!.padded(toMultipleOf: 8)
        #expect(real == 2 && padded.count == 8 && padded.tokens[7] == "[PAD7]" && padded.types[7] == Vocabulary.TokenType.unused)
    }

    @Test func writingMapsSpecialTokenIdsByText() {
        let donor: Metadata = [
            "tokenizer.ggml.tokens": .array(.string, ["<unk>", "<s>", "</s>"].map { .string($0) }),
            "tokenizer.ggml.bos_token_id": .uint32(1),
            "tokenizer.ggml.eos_token_id": .uint32(2),
        ]
        let output = Self.vocabulary([("</s>", 3), ("<s>", 3), ("z", 1)])
        var metadata = donor
        output.write(into: &metadata, specialsFrom: donor, specialsVocabulary: Vocabulary(metadata: donor))
        #expect(metadata["tokenizer.ggml.bos_token_id"]?.int == 1 && metadata["tokenizer.ggml.eos_token_id"]?.int == 0)
        #expect(metadata["tokenizer.ggml.tokens"]?.array?.count == 3 && metadata["tokenizer.ggml.scores"]?.array?.count == 3)
    }
}
