import GGUF

/// The output vocabulary of a merge with a tokenizer setting (`tokenizer_source:` or `tokenizer:`),
/// and how each input's vocabulary-sized tensors are laid out in it: mergekit 0.1.5's
/// `build_tokenizer` and `PermutedVocabulary` in GGUF terms.
///
/// - `base`: the tokenizer base's vocabulary (the config's `base_model`, else the first model);
///   `union`: `Vocabulary.union` of every input's, the tokenizer base first; a model: that model's.
/// - Each input's `token_embd`/`output` rows are permuted into the output vocabulary. A token a model
///   lacks (or every token configured with `force: true`) takes mergekit's default: the row of the
///   only model that has it, else the base's row when the base has it, else the mean over the models
///   that have it; or what `tokenizer: tokens:` says (a model's row for the token, a `model_token` row,
///   zeros). `pad_to_multiple_of` adds `[PAD<i>]` tokens whose rows are each model's mean row.
public struct VocabularyMerge: Sendable {
    /// The output vocabulary, padding included.
    public var vocabulary: Vocabulary
    /// Tokens before the padding.
    public var realCount: Int
    /// Per plan input: its vocabulary (the tokenizer base's when it has none).
    var inputVocabularies: [Vocabulary]
    /// Per plan input: output token id → the input's token id, nil when it lacks the token.
    var permutations: [[Int?]]
    /// `tokenizer: tokens:` by token, with models resolved to plan inputs.
    var tokenSettings: [String: (setting: MergeConfig.TokenEmbedding, input: Int?)]
    /// The input whose tokenizer metadata (special token ids, `tokenizer.ggml.model`, …) leads.
    public var tokenizerInput: Int
    var file: String

    /// The tensors whose rows are tokens.
    public static func isVocabularyTensor(_ name: String) -> Bool {
        name == "token_embd.weight" || name == "output.weight"
    }

    /// The vocabulary merge `config` asks for, nil without a tokenizer setting.
    public init?(config: MergeConfig, inputs: [InputModel], inputIndex: [ModelReference: Int]) throws(MergeError) {
        guard let source = config.tokenizerSource else { return nil }
        file = config.file
        let baseReference = config.baseModel ?? config.referencedModels[0]
        let base = inputIndex[baseReference]!
        guard let baseVocabulary = Vocabulary(metadata: inputs[base].model.metadata) else {
            throw .incompatible("\(config.file): tokenizer: \(inputs[base].label) has no tokenizer.ggml.tokens")
        }
        let vocabularies = inputs.map { Vocabulary(metadata: $0.model.metadata) ?? baseVocabulary }
        inputVocabularies = vocabularies
        let output: Vocabulary
        switch source {
        case .base:
            output = baseVocabulary
            tokenizerInput = base
        case .union:
            let others = vocabularies.indices.filter { $0 != base }.map { vocabularies[$0] }
            output = Vocabulary.union([baseVocabulary] + others)
            tokenizerInput = base
        case let .model(reference):
            tokenizerInput = inputIndex[reference]!
            guard let vocabulary = Vocabulary(metadata: inputs[tokenizerInput].model.metadata) else {
                throw .incompatible("\(config.file): tokenizer: \(inputs[tokenizerInput].label) has no tokenizer.ggml.tokens")
            }
            output = vocabulary
        }
        (vocabulary, realCount) = output.padded(toMultipleOf: config.padToMultipleOf)
        let tokens = vocabulary.tokens.prefix(realCount)
        permutations = vocabularies.map { input in tokens.map { input.ids[$0] } }
        tokenSettings = [:]
        for entry in config.tokenEmbeddings {
            let input: Int? = switch entry.source {
            case let .model(model)?, let .modelToken(model, _, _)?: inputIndex[model]
            case .zero?, nil: nil
            }
            tokenSettings[entry.token] = (entry, input)
        }
    }

    /// How each source's rows fill the output vocabulary, for a vocabulary tensor whose sources are
    /// `sources` (mergekit's models for it, base at `baseIndex`); nil for a source that needs no change.
    public func rows(for sources: [TensorSource], baseIndex: Int?, inputs: [InputModel], output name: String) throws(MergeError) -> [VocabularyRows?] {
        // A token id an input's tensor has no row for counts as missing.
        func inputRow(_ source: Int, _ token: Int) -> Int? {
            guard let id = permutations[sources[source].input][token], id < sources[source].tensor.shape[1] else { return nil }
            return id
        }
        func reference(_ source: Int, _ row: Int) -> RowReference {
            RowReference(input: sources[source].input, tensor: sources[source].tensor, row: row)
        }
        var defaults: [Int: VocabularyRows.Row] = [:]
        for token in 0 ..< realCount {
            let text = vocabulary.tokens[token]
            let present = sources.indices.filter { inputRow($0, token) != nil }
            let setting = tokenSettings[text]
            if !(setting?.setting.force ?? false), present.count == sources.count { continue }
            if let setting {
                defaults[token] = try configuredRow(setting, token: token, sources: sources, inputs: inputs, output: name, row: inputRow)
            } else if present.count == 1 {
                defaults[token] = .mean([reference(present[0], inputRow(present[0], token)!)])
            } else if present.isEmpty {
                defaults[token] = .zero
            } else if let baseIndex, let row = inputRow(baseIndex, token) {
                defaults[token] = .mean([reference(baseIndex, row)])
            } else {
                defaults[token] = .mean(present.map { reference($0, inputRow($0, token)!) })
            }
        }
        return sources.indices.map { source in
            var rows: [VocabularyRows.Row] = (0 ..< realCount).map { token in
                let force = tokenSettings[vocabulary.tokens[token]]?.setting.force ?? false
                if let row = inputRow(source, token), !force { return .own(row) }
                return defaults[token] ?? .zero
            }
            rows += [VocabularyRows.Row](repeating: .padding, count: vocabulary.count - realCount)
            let map = VocabularyRows(rows: rows, realCount: realCount)
            return map.isIdentity(storedRows: sources[source].tensor.shape[1]) ? nil : map
        }
    }

    /// The row a `tokenizer: tokens:` entry gives a token (mergekit's `compute_default_embedding`).
    func configuredRow(_ setting: (setting: MergeConfig.TokenEmbedding, input: Int?), token: Int, sources: [TensorSource],
                       inputs: [InputModel], output name: String, row: (Int, Int) -> Int?) throws(MergeError) -> VocabularyRows.Row {
        let text = setting.setting.token
        let what = "\(file): tokenizer.tokens.\(text) (\(setting.setting.mark))"
        guard let source = setting.setting.source else {
            throw .incompatible("\(what): needs a 'source' (some model lacks the token)")
        }
        if case .zero = source { return .zero }
        guard let input = setting.input, let index = sources.firstIndex(where: { $0.input == input }) else {
            throw .incompatible("\(what): the model it names is not merged into \(name)")
        }
        let tensor = sources[index].tensor
        switch source {
        case .model:
            guard let stored = row(index, token) else {
                throw .incompatible("\(what): \(inputs[input].label) has no token \(text)")
            }
            return .mean([RowReference(input: input, tensor: tensor, row: stored)])
        case let .modelToken(_, otherToken, tokenID):
            var id = tokenID
            if let otherToken {
                guard let found = inputVocabularies[input].ids[otherToken] else {
                    throw .incompatible("\(what): \(inputs[input].label) has no token \(otherToken)")
                }
                id = found
            }
            guard let id, id >= 0, id < tensor.shape[1] else {
                throw .incompatible("\(what): token id \(tokenID ?? -1) is out of range for \(inputs[input].label) (\(tensor.shape[1]) rows)")
            }
            return .mean([RowReference(input: input, tensor: tensor, row: id)])
        case .zero:
            return .zero
        }
    }

    /// Writes the output vocabulary into the output's metadata: the arrays, the special token ids
    /// (by text, from the tokenizer model), and `<arch>.vocab_size` when present.
    public func write(into metadata: inout Metadata, inputs: [InputModel]) {
        let donor = inputs[tokenizerInput].model.metadata
        vocabulary.write(into: &metadata, specialsFrom: donor, specialsVocabulary: inputVocabularies[tokenizerInput])
        let architecture = metadata["general.architecture"]?.string ?? ""
        if metadata.contains("\(architecture).vocab_size") {
            metadata.set("\(architecture).vocab_size", .uint32(UInt32(vocabulary.count)))
        }
    }
}

/// Where the plan keeps one input tensor's vocabulary layout.
public struct VocabularyKey: Sendable, Hashable {
    public var input: Int
    public var tensor: String
}

extension MergePlan {
    /// How `source`'s rows are laid out in the output vocabulary, nil when they are used as stored.
    public func vocabularyRows(for source: TensorSource) -> VocabularyRows? {
        vocabularyRows[VocabularyKey(input: source.input, tensor: source.tensor.name)]
    }
}

extension VocabularyMerge {
    /// Plans one vocabulary tensor: its rows must agree in width (`ne[0]`); its output shape has one
    /// row per output token; each source that needs a new layout gets one in `rows`.
    func plan(_ sources: [TensorSource], baseIndex: Int?, inputs: [InputModel], output name: String,
              shape: inout [Int], rows: inout [VocabularyKey: VocabularyRows]) throws(MergeError) {
        let first = sources[0]
        for source in sources where source.tensor.shape.count != 2 || source.tensor.shape[0] != first.tensor.shape[0] {
            throw .incompatible("tensor \(name): \(inputs[first.input].label) has shape \(first.tensor.shape), \(inputs[source.input].label) has \(source.tensor.shape)")
        }
        shape = [first.tensor.shape[0], vocabulary.count]
        for (source, map) in zip(sources, try self.rows(for: sources, baseIndex: baseIndex, inputs: inputs, output: name)) {
            if let map { rows[VocabularyKey(input: source.input, tensor: source.tensor.name)] = map }
        }
    }
}
