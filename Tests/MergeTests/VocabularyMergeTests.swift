import Foundation
import GGUF
import Merge
import Testing

/// Merges of models whose vocabularies differ (Fixtures/vocab: a base and two fine-tunes adding
/// `<|im_start|>`, `<|im_end|>` and `<tool_call>`), against mergekit 0.1.5's merges of the same Hugging
/// Face models: every token's embedding and output rows, by token text.
@Suite struct VocabularyMergeTests {
    static let directory = Fixture.directory.deletingLastPathComponent().appendingPathComponent("vocab")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func strings(_ value: MetadataValue?) -> [String] { value?.array?.compactMap(\.string) ?? [] }

    @Test(arguments: ["union", "base", "model", "tokens"])
    func matchesMergekit(_ config: String) throws {
        // F32 output: the inputs' F16 would round mergekit's float32 result.
        let plan = try MergePlan.build(try MergeConfig.load(path: Self.path("\(config).yml")),
                                       options: MergeOptions(outputType: .fileType(.f32)))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try MergeEngine(threads: 2).run(plan, to: output)
        let ours = try Fixture.tensors(atPath: output)
        let tokens = Self.strings(try GGUFModel(path: output).metadata["tokenizer.ggml.tokens"])

        let expectedModel = try GGUFModel(path: Self.path("expected-\(config).gguf"))
        let expected = try Fixture.tensors(atPath: Self.path("expected-\(config).gguf"))
        let vocabulary = Self.strings(expectedModel.metadata["ggufmerge.vocabulary"])
        let rows = expectedModel.metadata["ggufmerge.rows"]?.array?.compactMap(\.int) ?? []
        let rowCount = try #require(expectedModel.metadata["ggufmerge.vocabulary_rows"]?.int)
        // The same tokens (union order may differ: mergekit's follows a Python set), then padding.
        #expect(Set(tokens.prefix(vocabulary.count)) == Set(vocabulary))
        #expect(tokens.count == rowCount)
        for name in ["token_embd.weight", "output.weight"] {
            let mine = try #require(ours[name]), theirs = try #require(expected[name])
            let width = mine.shape[0]
            #expect(mine.shape == [width, rowCount])
            for (k, row) in rows.enumerated() {
                // A padding row is every model's mean row: any of ours compares.
                let ourRow = row < vocabulary.count ? try #require(tokens.firstIndex(of: vocabulary[row])) : row
                let a = Array(mine.values[ourRow * width ..< (ourRow + 1) * width])
                let b = Array(theirs.values[k * width ..< (k + 1) * width])
                let error = MergeHarness.relativeError(a, b)
                #expect(error <= 1e-5, "\(config): \(name) token \(row < vocabulary.count ? vocabulary[row] : "padding \(row)"): relative error \(error)")
            }
        }
    }

    @Test func addedTokensAreSingleTokensOfTheOutput() throws {
        let plan = try MergePlan.build(try MergeConfig.load(path: Self.path("union.yml")))
        let tokens = Self.strings(plan.metadata["tokenizer.ggml.tokens"])
        let types = plan.metadata["tokenizer.ggml.token_type"]?.array?.compactMap(\.int) ?? []
        for added in ["<|im_start|>", "<|im_end|>", "<tool_call>"] {
            #expect(tokens.filter { $0 == added }.count == 1, "\(added)")
        }
        #expect(types[tokens.firstIndex(of: "<|im_start|>")!] == Int(Vocabulary.TokenType.control))
        #expect(types[tokens.firstIndex(of: "<tool_call>")!] == Int(Vocabulary.TokenType.userDefined))
        #expect(plan.metadata["tokenizer.ggml.bos_token_id"]?.int == tokens.firstIndex(of: "<s>"))
    }

    @Test func differingVocabulariesNeedATokenizer() throws {
        let text = try String(contentsOfFile: Self.path("union.yml"), encoding: .utf8)
            .replacingOccurrences(of: "tokenizer_source: union\n", with: "")
        let config = try MergeConfig.parse(text, file: "no-tokenizer.yml", directory: Self.directory.path)
        #expect(throws: MergeError.incompatible(
            "vocabulary sizes differ: chat.gguf has 202 tokens, base.gguf has 200 (output.weight); choose a tokenizer (tokenizer_source: base, union or a model)")) {
            try MergePlan.build(config)
        }
    }

    /// A vocabulary tensor copied from one model (linear, weights 1 and 0): the rows it has keep their
    /// stored bytes; only the rows of tokens it lacks are encoded (here the fine-tune's rows, whose F16
    /// values survive the round trip exactly).
    @Test func copiedRowsKeepTheirBytes() throws {
        let text = """
        merge_method: linear
        models:
          - model: base.gguf
            parameters: {weight: 1.0}
          - model: chat.gguf
            parameters: {weight: 0.0}
        tokenizer_source: union
        """
        let plan = try MergePlan.build(try MergeConfig.parse(text, file: "copy.yml", directory: Self.directory.path))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try MergeEngine(threads: 2).run(plan, to: output)
        let merged = try GGUFModel(path: output), base = try GGUFModel(path: Self.path("base.gguf"))
        let chat = try GGUFModel(path: Self.path("chat.gguf"))
        let tokens = Self.strings(merged.metadata["tokenizer.ggml.tokens"])
        #expect(tokens.count == 202)
        for name in ["token_embd.weight", "output.weight"] {
            let ours = merged.withBytes(of: try #require(merged.tensor(named: name))) { Array($0) }
            let stored = base.withBytes(of: try #require(base.tensor(named: name))) { Array($0) }
            let chatBytes = chat.withBytes(of: try #require(chat.tensor(named: name))) { Array($0) }
            let rowBytes = stored.count / 200
            #expect(ours.count == 202 * rowBytes && Array(ours.prefix(stored.count)) == stored)
            let chatTokens = Self.strings(chat.metadata["tokenizer.ggml.tokens"])
            for token in ["<|im_start|>", "<|im_end|>"] {
                let row = try #require(tokens.firstIndex(of: token)), chatRow = try #require(chatTokens.firstIndex(of: token))
                #expect(ours[row * rowBytes ..< (row + 1) * rowBytes] == chatBytes[chatRow * rowBytes ..< (chatRow + 1) * rowBytes])
            }
        }
    }

    /// Quantized inputs (Q8_0, made with `ggufmerge quantize`'s plan): a copied vocabulary tensor keeps
    /// its stored blocks for the base's rows; the new tokens' rows are the fine-tune's, requantized.
    @Test func quantizedRowsAreRequantizedOnlyWhereTheyChange() throws {
        try Fixture.withTemporaryFolder("vocab-q8") { folder in
            try Fixture.quantizeToQ8_0([Self.path("base.gguf"), Self.path("chat.gguf")], in: folder)
            let text = "merge_method: linear\nmodels:\n  - model: base.gguf\n    parameters: {weight: 1.0}\n"
                + "  - model: chat.gguf\n    parameters: {weight: 0.0}\ntokenizer_source: union\n"
            let plan = try MergePlan.build(try MergeConfig.parse(text, file: "q8.yml", directory: folder))
            try MergeEngine(threads: 2).run(plan, to: "\(folder)/out.gguf")
            let merged = try GGUFModel(path: "\(folder)/out.gguf"), base = try GGUFModel(path: "\(folder)/base.gguf")
            let tensor = try #require(merged.tensor(named: "token_embd.weight"))
            #expect(tensor.type == .q8_0 && tensor.shape == [64, 202])
            let stored = base.withBytes(of: try #require(base.tensor(named: "token_embd.weight"))) { Array($0) }
            #expect(merged.withBytes(of: tensor) { Array($0.prefix(stored.count)) } == stored)
            let ours = try Fixture.tensors(atPath: "\(folder)/out.gguf")["token_embd.weight"]!.values
            let chat = try Fixture.tensors(atPath: "\(folder)/chat.gguf")["token_embd.weight"]!.values
            let chatTokens = Self.strings(try GGUFModel(path: "\(folder)/chat.gguf").metadata["tokenizer.ggml.tokens"])
            let tokens = Self.strings(merged.metadata["tokenizer.ggml.tokens"])
            let row = try #require(tokens.firstIndex(of: "<|im_start|>")), chatRow = try #require(chatTokens.firstIndex(of: "<|im_start|>"))
            // Q8_0 of Q8_0-decoded values: the same values up to one rounding step of the block scale.
            let oursRow = Array(ours[row * 64 ..< (row + 1) * 64])
            let chatRowValues = Array(chat[chatRow * 64 ..< (chatRow + 1) * 64])
            #expect(MergeHarness.relativeError(oursRow, chatRowValues) <= 1e-2)
        }
    }

    @Test func chatTemplateNameBecomesItsText() throws {
        let text = try String(contentsOfFile: Self.path("base.yml"), encoding: .utf8) + "chat_template: chatml\n"
        let plan = try MergePlan.build(try MergeConfig.parse(text, file: "chatml.yml", directory: Self.directory.path))
        #expect(plan.metadata["tokenizer.chat_template"]?.string == ChatTemplate.named["chatml"])
    }
}
