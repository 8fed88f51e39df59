import GGUF

/// One way a model differs from the reference (the base, else the first model) in what a merge needs
/// to agree: architecture, hyperparameters, tensors, vocabulary; or a LoRA adapter that does not fit.
public enum CompatibilityFinding: Sendable, Equatable, CustomStringConvertible {
    case architecture(model: String, found: String, expected: String)
    /// An `<arch>.*` key (or the tokenizer model) whose value differs; nil: missing.
    case hyperparameter(model: String, key: String, found: String?, expected: String?)
    case missingTensor(model: String, tensor: String)
    case extraTensor(model: String, tensor: String)
    case shape(model: String, tensor: String, found: [Int], expected: [Int])
    case vocabularySize(model: String, found: Int, expected: Int)
    /// Token lists of one size that differ in `count` places; `examples` are the first few (index,
    /// this model's token, the reference's token).
    case tokens(model: String, count: Int, examples: [TokenDifference])
    case adapter(path: String, reason: String)
    /// Stored in a type `check` cannot read (the tensor is left out of relatedness).
    case unreadableType(model: String, tensor: String, type: String)

    public struct TokenDifference: Sendable, Equatable {
        public var index: Int
        public var found: String
        public var expected: String
    }

    /// Whether a merge of these inputs fails (or mixes things that do not correspond). Vocabulary
    /// token differences and unreadable types are warnings: the tensors still line up.
    public var blocksMerge: Bool {
        switch self {
        case .tokens, .unreadableType: false
        default: true
        }
    }

    public var description: String {
        switch self {
        case let .architecture(model, found, expected):
            "\(model): architecture '\(found)', the reference has '\(expected)'"
        case let .hyperparameter(model, key, found, expected):
            "\(model): \(key) = \(found ?? "(missing)"), the reference has \(expected ?? "(missing)")"
        case let .missingTensor(model, tensor):
            "\(model): no tensor \(tensor) (the reference has it)"
        case let .extraTensor(model, tensor):
            "\(model): tensor \(tensor) is not in the reference"
        case let .shape(model, tensor, found, expected):
            "\(model): tensor \(tensor) has shape \(found), the reference \(expected)"
        case let .vocabularySize(model, found, expected):
            "\(model): vocabulary of \(found) tokens, the reference has \(expected)"
        case let .tokens(model, count, examples):
            "\(model): \(count) tokens differ from the reference's, e.g. "
                + examples.map { "#\($0.index) '\($0.found)' vs '\($0.expected)'" }.joined(separator: ", ")
        case let .adapter(path, reason):
            "\(path): \(reason)"
        case let .unreadableType(model, tensor, type):
            "\(model): tensor \(tensor) is \(type), which check cannot read (left out)"
        }
    }

    /// How `model` differs from `reference` in metadata and tensor layout.
    static func compare(_ model: GGUFModel, to reference: GGUFModel) -> [CompatibilityFinding] {
        var findings: [CompatibilityFinding] = []
        let name = model.path
        let architecture = reference.metadata["general.architecture"]?.string ?? "?"
        let found = model.metadata["general.architecture"]?.string ?? "?"
        if found != architecture {
            return [.architecture(model: name, found: found, expected: architecture)]
        }
        var keys = Set(reference.metadata.keys.filter { $0.hasPrefix(architecture + ".") })
        keys.formUnion(model.metadata.keys.filter { $0.hasPrefix(architecture + ".") })
        keys.insert("tokenizer.ggml.model")
        for key in keys.sorted() {
            let a = model.metadata[key], b = reference.metadata[key]
            if a != b {
                findings.append(.hyperparameter(model: name, key: key, found: a.map(text), expected: b.map(text)))
            }
        }
        for tensor in reference.tensors {
            guard let other = model.tensor(named: tensor.name) else {
                findings.append(.missingTensor(model: name, tensor: tensor.name))
                continue
            }
            if other.shape != tensor.shape {
                if tensor.name.hasPrefix("token_embd") || tensor.name.hasPrefix("output.") {
                    continue  // reported once, as the vocabulary size
                }
                findings.append(.shape(model: name, tensor: tensor.name, found: other.shape, expected: tensor.shape))
            }
        }
        let referenceNames = Set(reference.tensors.map(\.name))
        for tensor in model.tensors where !referenceNames.contains(tensor.name) {
            findings.append(.extraTensor(model: name, tensor: tensor.name))
        }
        findings += vocabulary(model, reference)
        return findings
    }

    /// Vocabulary size (the token list, else the embedding's row count) and token agreement.
    static func vocabulary(_ model: GGUFModel, _ reference: GGUFModel) -> [CompatibilityFinding] {
        func size(_ m: GGUFModel) -> Int? {
            m.metadata["tokenizer.ggml.tokens"]?.array?.count ?? m.tensor(named: "token_embd.weight")?.shape.last
        }
        let a = size(model), b = size(reference)
        if let a, let b, a != b { return [.vocabularySize(model: model.path, found: a, expected: b)] }
        guard let tokens = model.metadata["tokenizer.ggml.tokens"]?.array,
              let expected = reference.metadata["tokenizer.ggml.tokens"]?.array else { return [] }
        var count = 0
        var examples: [TokenDifference] = []
        for (index, (x, y)) in zip(tokens, expected).enumerated() where x != y {
            count += 1
            if examples.count < 3 {
                examples.append(TokenDifference(index: index, found: x.string ?? "?", expected: y.string ?? "?"))
            }
        }
        return count == 0 ? [] : [.tokens(model: model.path, count: count, examples: examples)]
    }

    static func text(_ value: MetadataValue) -> String {
        switch value {
        case let .string(s): "'\(s)'"
        case let .array(_, values): "[" + values.prefix(8).map(text).joined(separator: ", ") + (values.count > 8 ? ", …" : "") + "]"
        default: value.description
        }
    }
}
