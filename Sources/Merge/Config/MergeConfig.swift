import Foundation

/// A merge configuration in mergekit's YAML schema (`mergekit-yaml`'s `MergeConfiguration`), read for
/// GGUF inputs.
///
/// ```yaml
/// models:                      # or slices: (exactly one of the two)
///   - model: a.gguf            # relative to this file's directory; a.gguf+lora.gguf applies an adapter
///     parameters: {weight: 0.7}
///   - model: b.gguf
///     parameters: {weight: 0.3}
/// merge_method: linear
/// base_model: base.gguf        # optional
/// parameters: {normalize: true}
/// dtype: float32               # optional: bfloat16, float16, float32, float64
/// out_dtype: float16           # optional
/// tokenizer_source: base       # optional: base, union or a model (or a tokenizer: block)
/// chat_template: chatml        # optional
/// name: my-merge               # optional (ggufmerge: the output's general.name)
/// imatrix: base.imatrix.gguf   # optional (ggufmerge): importance matrix for quantizing the output
/// ```
///
/// Differences from mergekit, all errors where mergekit would silently do something else or nothing:
/// unknown keys (mergekit ignores them), `modules:`, Hugging Face repository ids, and (see
/// `validate(for:)`) parameter names the method does not know.
public struct MergeConfig: Sendable, Equatable {
    /// One entry of `models:`.
    public struct ModelEntry: Sendable, Equatable {
        public var model: ModelReference
        public var parameters: ParameterSettings
        public var mark: Mark
    }

    /// One `sources:` entry of a slice: a model's layers `layerRange` (`[start, end)`).
    /// In the slices that `layout` builds from `models:`, the range is the whole model.
    public struct SliceSource: Sendable, Equatable {
        public var model: ModelReference
        public var layerRange: Range<Int>
        public var parameters: ParameterSettings
        public var mark: Mark
    }

    /// One entry of `slices:`: output layers made from the same number of layers of each source.
    public struct OutputSlice: Sendable, Equatable {
        public var sources: [SliceSource]
        /// The slice's own `base_model:`, overriding the top-level one.
        public var baseModel: ModelReference?
        public var parameters: ParameterSettings
        public var mark: Mark
    }

    /// What is merged: whole models or layer slices.
    public enum Inputs: Sendable, Equatable {
        case models([ModelEntry])
        case slices([OutputSlice])
    }

    /// Where the output's vocabulary comes from.
    public enum TokenizerSource: Sendable, Equatable {
        /// The base model's.
        case base
        /// Every input's tokens: the base's, then the tokens the others add.
        case union
        /// A given model's.
        case model(ModelReference)
    }

    /// Where one token's embedding comes from when a model lacks it (or always, with `force`):
    /// an entry of `tokenizer: tokens:` (mergekit's `TokenEmbeddingConfig`).
    public struct TokenEmbedding: Sendable, Equatable {
        public enum Source: Sendable, Equatable {
            /// The same token's row in that model.
            case model(ModelReference)
            /// Row `tokenID`, or the row of token `token`, of that model's own vocabulary.
            case modelToken(ModelReference, token: String?, tokenID: Int?)
            /// Zeros.
            case zero
        }

        public var token: String
        /// nil: mergekit's default (the only model with the token, the base, or the mean).
        public var source: Source?
        /// Every model takes the default, even one that has the token.
        public var force: Bool
        public var mark: Mark
    }

    /// The configuration file's path as given (used in messages).
    public var file: String
    /// The directory model paths are resolved against.
    public var directory: String
    public var mergeMethod: String
    public var mergeMethodMark: Mark
    public var inputs: Inputs
    public var baseModel: ModelReference?
    /// Global `parameters:` (lowest precedence).
    public var parameters: ParameterSettings
    /// mergekit's `dtype` (`bfloat16`, `float16`, `float32`, `float64`; a `torch.` prefix is dropped).
    public var dtype: String?
    public var outDtype: String?
    public var tokenizerSource: TokenizerSource?
    /// `tokenizer: tokens:`, in file order.
    public var tokenEmbeddings: [TokenEmbedding] = []
    /// `tokenizer: pad_to_multiple_of:`: the output vocabulary is padded to a multiple of this.
    public var padToMultipleOf: Int?
    /// `auto`, a template name (`chatml`, `llama3`, …) or a Jinja template, as written (resolved by
    /// `ChatTemplate.resolve` when the plan is built).
    public var chatTemplate: String?
    public var name: String?
    /// ggufmerge's `imatrix:`: an importance matrix file (resolved against `directory`) used to quantize
    /// the output as `llama-quantize --imatrix` would.
    public var imatrix: String?
    /// mergekit-mega's `out_path`: accepted and ignored (ggufmerge writes intermediates to a temporary
    /// folder and the last document to `-o`).
    public var outPath: String?

    static let topLevelKeys = ["models", "slices", "merge_method", "base_model", "parameters", "dtype", "out_dtype",
                               "tokenizer_source", "tokenizer", "chat_template", "name", "imatrix", "out_path"]
    static let dtypes = ["bfloat16", "float16", "float32", "float64"]

    /// Reads and parses the configuration at `path` (model paths relative to its directory).
    public static func load(path: String) throws(ConfigError) -> MergeConfig {
        let root = try YAML.load(path: path)
        let directory = (URL(fileURLWithPath: path).deletingLastPathComponent().path)
        return try MergeConfig(root, file: path, directory: directory)
    }

    /// Parses configuration text; `file` names it in messages, `directory` resolves model paths.
    public static func parse(_ text: String, file: String, directory: String) throws(ConfigError) -> MergeConfig {
        try MergeConfig(YAML.parse(text, file: file), file: file, directory: directory)
    }

    /// Builds the configuration from a parsed document.
    public init(_ root: YAMLNode, file: String, directory: String) throws(ConfigError) {
        self.file = file
        self.directory = directory
        guard let pairs = root.pairs else {
            throw .invalid(file: file, at: root.mark, message: "a merge configuration must be a mapping (models:, merge_method:, …), not \(root.kindDescription)")
        }
        let reader = Reader(file: file, directory: directory)
        for pair in pairs where !MergeConfig.topLevelKeys.contains(pair.key) {
            if pair.key == "modules" {
                throw .unsupported(file: file, at: pair.keyMark, message: "'modules' is not supported (use 'models' or 'slices')")
            }
            throw .invalid(file: file, at: pair.keyMark, message:
                "unknown key '\(pair.key)' (expected one of: \(MergeConfig.topLevelKeys.joined(separator: ", ")))")
        }

        guard let method = root["merge_method"], !method.isNull else {
            throw .invalid(file: file, at: nil, message: "missing 'merge_method'")
        }
        mergeMethod = try reader.string(method, "merge_method")
        mergeMethodMark = method.mark

        let models = root["models"].flatMap { $0.isNull ? nil : $0 }
        let slices = root["slices"].flatMap { $0.isNull ? nil : $0 }
        let hasModels = models.map { ($0.items?.isEmpty ?? false) == false } ?? false
        let hasSlices = slices.map { ($0.items?.isEmpty ?? false) == false } ?? false
        if hasModels == hasSlices {
            let mark = hasModels ? pairs.last(where: { $0.key == "models" || $0.key == "slices" })?.keyMark : nil
            throw .invalid(file: file, at: mark, message: "exactly one of 'models' or 'slices' must be given (and not empty)")
        }
        if let models, hasModels {
            inputs = .models(try reader.models(models))
        } else if let slices {
            inputs = .slices(try reader.slices(slices))
        } else {
            preconditionFailure("checked above")
        }

        baseModel = try root["base_model"].flatMap { node throws(ConfigError) in
            node.isNull ? nil : try reader.model(node, "base_model")
        }
        parameters = try reader.parameters(root["parameters"], owner: nil)
        dtype = try reader.dtype(root["dtype"], "dtype")
        outDtype = try reader.dtype(root["out_dtype"], "out_dtype")
        chatTemplate = try root["chat_template"].flatMap { node throws(ConfigError) in
            node.isNull ? nil : try reader.chatTemplate(node)
        }
        name = try root["name"].flatMap { node throws(ConfigError) in
            node.isNull ? nil : try reader.string(node, "name")
        }
        imatrix = try root["imatrix"].flatMap { node throws(ConfigError) in
            node.isNull ? nil : ModelReference.resolve(try reader.string(node, "imatrix"), directory: directory)
        }
        outPath = try root["out_path"].flatMap { node throws(ConfigError) in
            node.isNull ? nil : try reader.string(node, "out_path")
        }

        tokenizerSource = nil
        if let node = root["tokenizer_source"], !node.isNull {
            tokenizerSource = try reader.tokenizerSource(node, "tokenizer_source")
        }
        if let node = root["tokenizer"], !node.isNull {
            if tokenizerSource != nil {
                throw .invalid(file: file, at: node.mark, message: "cannot specify both 'tokenizer_source' and 'tokenizer'")
            }
            (tokenizerSource, tokenEmbeddings, padToMultipleOf) = try reader.tokenizerSection(node)
        }
    }

    /// The configuration with every model reference passed through `transform` (mergekit-mega uses it
    /// to point a document's `name:` at the file an earlier document wrote).
    public func mapModels(_ transform: (ModelReference) -> ModelReference) -> MergeConfig {
        var copy = self
        copy.baseModel = baseModel.map(transform)
        switch inputs {
        case let .models(models):
            copy.inputs = .models(models.map { var m = $0; m.model = transform(m.model); return m })
        case let .slices(slices):
            copy.inputs = .slices(slices.map { slice in
                var s = slice
                s.baseModel = slice.baseModel.map(transform)
                s.sources = slice.sources.map { var source = $0; source.model = transform(source.model); return source }
                return s
            })
        }
        if case let .model(model) = tokenizerSource { copy.tokenizerSource = .model(transform(model)) }
        copy.tokenEmbeddings = tokenEmbeddings.map { entry in
            var e = entry
            switch entry.source {
            case let .model(model)?: e.source = .model(transform(model))
            case let .modelToken(model, token, id)?: e.source = .modelToken(transform(model), token: token, tokenID: id)
            case .zero?, nil: break
            }
            return e
        }
        return copy
    }

    /// Every model the configuration names (base first when given), without repeats, in order.
    public var referencedModels: [ModelReference] {
        var all: [ModelReference] = baseModel.map { [$0] } ?? []
        switch inputs {
        case let .models(models): all += models.map(\.model)
        case let .slices(slices): all += slices.flatMap { $0.sources.map(\.model) }
        }
        if case let .model(model) = tokenizerSource { all.append(model) }
        for entry in tokenEmbeddings {
            switch entry.source {
            case let .model(model)?, let .modelToken(model, _, _)?: all.append(model)
            case .zero?, nil: break
            }
        }
        var seen = Set<ModelReference>()
        return all.filter { seen.insert($0).inserted }
    }
}

// MARK: - Reading the schema

extension MergeConfig {
    /// Schema helpers: each reads one kind of node and names the key in its errors.
    struct Reader {
        var file: String
        var directory: String

        func string(_ node: YAMLNode, _ key: String) throws(ConfigError) -> String {
            guard case let .scalar(text, _, _) = node, !node.isNull else {
                throw .invalid(file: file, at: node.mark, message: "'\(key)' must be a string, not \(node.kindDescription)")
            }
            return text
        }

        func mapping(_ node: YAMLNode, _ what: String, keys: [String]) throws(ConfigError) -> [YAMLNode.Pair] {
            guard let pairs = node.pairs else {
                throw .invalid(file: file, at: node.mark, message: "\(what) must be a mapping, not \(node.kindDescription)")
            }
            for pair in pairs where !keys.contains(pair.key) {
                throw .invalid(file: file, at: pair.keyMark, message:
                    "unknown key '\(pair.key)' in \(what) (expected \(keys.map { "'\($0)'" }.joined(separator: ", ")))")
            }
            return pairs
        }

        func list(_ node: YAMLNode, _ key: String) throws(ConfigError) -> [YAMLNode] {
            guard let items = node.items else {
                throw .invalid(file: file, at: node.mark, message: "'\(key)' must be a list, not \(node.kindDescription)")
            }
            return items
        }

        /// `model.gguf`, `model.gguf+adapter.gguf`, or `{model: …, lora: …, lora_scale: …}`.
        func model(_ node: YAMLNode, _ key: String) throws(ConfigError) -> ModelReference {
            if node.pairs != nil {
                let pairs = try mapping(node, "'\(key)'", keys: ["model", "lora", "lora_scale", "override_architecture"])
                var reference: ModelReference?
                var adapter: ModelReference?
                var scale: Double?
                for pair in pairs {
                    switch pair.key {
                    case "model": reference = try model(pair.value, "\(key).model")
                    case "lora": adapter = try model(pair.value, "\(key).lora")
                    case "lora_scale":
                        guard let value = pair.value.number else {
                            throw .invalid(file: file, at: pair.value.mark, message: "'\(key).lora_scale' must be a number")
                        }
                        scale = value
                    default:
                        throw .unsupported(file: file, at: pair.keyMark, message: "'\(pair.key)' is not supported (ggufmerge reads the architecture from the GGUF)")
                    }
                }
                guard var reference else { throw .invalid(file: file, at: node.mark, message: "'\(key)' has no 'model'") }
                if let adapter {
                    guard reference.adapter == nil, adapter.adapter == nil else {
                        throw .invalid(file: file, at: node.mark, message: "'\(key)': only one LoRA adapter per model")
                    }
                    reference.adapter = adapter.path
                    reference.text += "+" + adapter.text
                }
                if let scale {
                    guard reference.adapter != nil else {
                        throw .invalid(file: file, at: node.mark, message: "'\(key)': lora_scale without a lora")
                    }
                    reference.adapterScale = scale
                }
                return reference
            }
            let text = try string(node, key)
            return try ModelReference.parse(text, directory: directory, file: file, at: node.mark)
        }

        func models(_ node: YAMLNode) throws(ConfigError) -> [ModelEntry] {
            var result: [ModelEntry] = []
            for item in try list(node, "models") {
                let pairs = try mapping(item, "a 'models' entry", keys: ["model", "parameters"])
                guard let modelNode = pairs.first(where: { $0.key == "model" })?.value, !modelNode.isNull else {
                    throw .invalid(file: file, at: item.mark, message: "a 'models' entry has no 'model'")
                }
                let model = try model(modelNode, "model")
                if let other = result.first(where: { $0.model == model }) {
                    throw .invalid(file: file, at: modelNode.mark, message: "model '\(model.text)' is listed twice in 'models' (first at \(other.mark))")
                }
                let parameters = try parameters(item["parameters"], owner: "model '\(model.text)'")
                result.append(ModelEntry(model: model, parameters: parameters, mark: modelNode.mark))
            }
            return result
        }

        func slices(_ node: YAMLNode) throws(ConfigError) -> [OutputSlice] {
            var result: [OutputSlice] = []
            for (sliceIndex, item) in try list(node, "slices").enumerated() {
                // residual_weight: accepted and ignored, as mergekit 0.1.5 does.
                let pairs = try mapping(item, "slices[\(sliceIndex)]", keys: ["sources", "base_model", "parameters", "residual_weight"])
                guard let sourcesNode = pairs.first(where: { $0.key == "sources" })?.value, !sourcesNode.isNull else {
                    throw .invalid(file: file, at: item.mark, message: "slices[\(sliceIndex)] has no 'sources'")
                }
                var sources: [SliceSource] = []
                for source in try list(sourcesNode, "sources") {
                    let sourcePairs = try mapping(source, "a 'sources' entry", keys: ["model", "layer_range", "parameters"])
                    guard let modelNode = sourcePairs.first(where: { $0.key == "model" })?.value, !modelNode.isNull else {
                        throw .invalid(file: file, at: source.mark, message: "a 'sources' entry has no 'model'")
                    }
                    let model = try model(modelNode, "model")
                    if let other = sources.first(where: { $0.model == model }) {
                        throw .invalid(file: file, at: modelNode.mark, message: "model '\(model.text)' is listed twice in slices[\(sliceIndex)] (first at \(other.mark))")
                    }
                    guard let rangeNode = source["layer_range"], !rangeNode.isNull else {
                        throw .invalid(file: file, at: source.mark, message: "a 'sources' entry has no 'layer_range'")
                    }
                    guard let bounds = rangeNode.items, bounds.count == 2, let start = bounds[0].int, let end = bounds[1].int else {
                        throw .invalid(file: file, at: rangeNode.mark, message: "'layer_range' must be two integers [start, end]")
                    }
                    guard start >= 0, start <= end else {
                        throw .invalid(file: file, at: rangeNode.mark, message: "'layer_range' [\(start), \(end)] is empty or negative")
                    }
                    let parameters = try parameters(source["parameters"], owner: "model '\(model.text)'")
                    sources.append(SliceSource(model: model, layerRange: start ..< end, parameters: parameters, mark: modelNode.mark))
                }
                guard !sources.isEmpty else {
                    throw .invalid(file: file, at: sourcesNode.mark, message: "slices[\(sliceIndex)] has no sources")
                }
                let lengths = Set(sources.map(\.layerRange.count))
                guard lengths.count == 1 else {
                    throw .invalid(file: file, at: sourcesNode.mark, message:
                        "all sources of slices[\(sliceIndex)] must have the same number of layers (layer_range lengths: \(sources.map { String($0.layerRange.count) }.joined(separator: ", ")))")
                }
                let base = try item["base_model"].flatMap { node throws(ConfigError) in
                    node.isNull ? nil : try model(node, "base_model")
                }
                let parameters = try parameters(item["parameters"], owner: "slices[\(sliceIndex)]")
                result.append(OutputSlice(sources: sources, baseModel: base, parameters: parameters, mark: item.mark))
            }
            return result
        }

        /// A `parameters:` mapping; `owner` names where it is ("model 'a.gguf'", nil for the global one).
        func parameters(_ node: YAMLNode?, owner: String?) throws(ConfigError) -> ParameterSettings {
            guard let node, !node.isNull else { return ParameterSettings() }
            guard let pairs = node.pairs else {
                throw .invalid(file: file, at: node.mark, message: "'parameters'\(owner.map { " of \($0)" } ?? "") must be a mapping, not \(node.kindDescription)")
            }
            var result = ParameterSettings()
            for pair in pairs {
                let describe = "parameter '\(pair.key)'" + (owner.map { " of \($0)" } ?? "")
                let setting = try ParameterSetting.parse(pair.value, owner: describe, file: file)
                result.entries.append(.init(name: pair.key, keyMark: pair.keyMark, setting: setting))
            }
            return result
        }

        func dtype(_ node: YAMLNode?, _ key: String) throws(ConfigError) -> String? {
            guard let node, !node.isNull else { return nil }
            var name = try string(node, key)
            if name.hasPrefix("torch.") { name.removeFirst("torch.".count) }
            guard MergeConfig.dtypes.contains(name) else {
                throw .invalid(file: file, at: node.mark, message: "'\(key)' must be one of \(MergeConfig.dtypes.joined(separator: ", ")), not '\(name)'")
            }
            return name
        }

        /// `auto`, a template name mergekit knows, or a template (checked here; `auto` is resolved by the plan).
        func chatTemplate(_ node: YAMLNode) throws(ConfigError) -> String {
            let setting = try string(node, "chat_template")
            if setting != "auto" {
                do { _ = try ChatTemplate.resolve(setting, inputTemplates: []) } catch {
                    throw .invalid(file: file, at: node.mark, message: "chat_template: \(error.message)")
                }
            }
            return setting
        }

        func tokenizerSource(_ node: YAMLNode, _ key: String) throws(ConfigError) -> TokenizerSource {
            if node.pairs == nil, let text = node.string {
                if text == "base" { return .base }
                if text == "union" { return .union }
            }
            return .model(try model(node, key))
        }

        /// The `tokenizer:` section: `source` (default union), `tokens`, `pad_to_multiple_of`.
        func tokenizerSection(_ node: YAMLNode) throws(ConfigError) -> (TokenizerSource, [TokenEmbedding], Int?) {
            _ = try mapping(node, "'tokenizer'", keys: ["source", "tokens", "pad_to_multiple_of"])
            var source = TokenizerSource.union
            if let sourceNode = node["source"], !sourceNode.isNull {
                source = try tokenizerSource(sourceNode, "tokenizer.source")
            }
            var padding: Int?
            if let padNode = node["pad_to_multiple_of"], !padNode.isNull {
                guard let value = padNode.int, value > 0 else {
                    throw .invalid(file: file, at: padNode.mark, message: "tokenizer.pad_to_multiple_of must be a positive integer")
                }
                padding = value
            }
            var tokens: [TokenEmbedding] = []
            if let tokensNode = node["tokens"], !tokensNode.isNull {
                for pair in try mapping(tokensNode, "'tokenizer.tokens'", keys: tokensNode.pairs?.map(\.key) ?? []) {
                    tokens.append(try tokenEmbedding(pair))
                }
            }
            return (source, tokens, padding)
        }

        /// One `tokens:` entry: `{source: <model> | {kind: model_token, model, token | token_id} | {kind: zero}, force}`.
        func tokenEmbedding(_ pair: YAMLNode.Pair) throws(ConfigError) -> TokenEmbedding {
            let what = "tokenizer.tokens.\(pair.key)"
            let pairs = try mapping(pair.value, "'\(what)'", keys: ["source", "force"])
            var entry = TokenEmbedding(token: pair.key, source: nil, force: false, mark: pair.keyMark)
            for item in pairs where !item.value.isNull {
                if item.key == "force" {
                    guard let force = item.value.bool else {
                        throw .invalid(file: file, at: item.value.mark, message: "'\(what).force' must be true or false")
                    }
                    entry.force = force
                } else if item.value.pairs == nil {
                    entry.source = .model(try model(item.value, "\(what).source"))
                } else {
                    entry.source = try embeddingSource(item.value, "\(what).source")
                }
            }
            return entry
        }

        func embeddingSource(_ node: YAMLNode, _ what: String) throws(ConfigError) -> TokenEmbedding.Source {
            let kind = try node["kind"].map { kind throws(ConfigError) in try string(kind, "\(what).kind") }
            switch kind {
            case "zero":
                _ = try mapping(node, "'\(what)'", keys: ["kind"])
                return .zero
            case "model_token":
                _ = try mapping(node, "'\(what)'", keys: ["kind", "model", "token", "token_id"])
                guard let modelNode = node["model"], !modelNode.isNull else {
                    throw .invalid(file: file, at: node.mark, message: "'\(what)' has no 'model'")
                }
                let token = try node["token"].flatMap { t throws(ConfigError) in t.isNull ? nil : try string(t, "\(what).token") }
                var tokenID: Int?
                if let idNode = node["token_id"], !idNode.isNull {
                    guard let id = idNode.int else {
                        throw .invalid(file: file, at: idNode.mark, message: "'\(what).token_id' must be an integer")
                    }
                    tokenID = id
                }
                guard (token == nil) != (tokenID == nil) else {
                    throw .invalid(file: file, at: node.mark, message: "'\(what)': give exactly one of 'token' or 'token_id'")
                }
                return .modelToken(try model(modelNode, "\(what).model"), token: token, tokenID: tokenID)
            default:
                throw .invalid(file: file, at: node.mark, message: "'\(what).kind' must be model_token or zero")
            }
        }
    }
}
