import GGUF

/// A row of another (or the same) input's vocabulary-sized tensor.
public struct RowReference: Sendable, Equatable {
    public var input: Int
    public var tensor: TensorInfo
    public var row: Int
}

/// How one input's vocabulary-sized tensor (`token_embd`, `output`) is laid out in the output
/// vocabulary: what each output row holds, before the merge method sees it (mergekit's
/// `PermutedVocabulary`).
public struct VocabularyRows: Sendable, Equatable {
    public enum Row: Sendable, Equatable {
        /// Row `n` of this input's own tensor.
        case own(Int)
        /// The sum of these rows divided by their count (one row: a copy of it; mergekit's mean over
        /// the models that have the token, a donor model's row, or a `model_token` row).
        case mean([RowReference])
        /// Zeros (`kind: zero`, or a token no model has).
        case zero
        /// Padding beyond the vocabulary (`pad_to_multiple_of`): the mean of this tensor's first
        /// `realCount` output rows.
        case padding
    }

    public var rows: [Row]
    /// Output rows that are tokens (the rest are padding).
    public var realCount: Int

    /// Whether output row `i` is this input's row `i` for every row: no permutation needed.
    func isIdentity(storedRows: Int) -> Bool {
        rows.count == storedRows && rows.enumerated().allSatisfy { $0.element == .own($0.offset) }
    }
}
