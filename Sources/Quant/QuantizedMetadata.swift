import GGUF

/// The metadata edits llama-quantize makes (`llama_model_quantize_impl` in `src/llama-quant.cpp`).
///
/// llama-quantize copies every input key in input order, then sets `general.quantization_version` to
/// 2 and `general.file_type` to the file type id, both as `UInt32`; setting a key that exists removes it
/// from its place and appends it (`gguf_set_val_*`, like `Metadata.set`). It then removes `split.no`,
/// `split.count` and `split.tensors.count` (and writes new ones only with `--keep-split`, which this
/// project does not reproduce), and finally sets the `quantize.imatrix.*` keys when given an importance
/// matrix. (`--override-kv` and `--prune-layers` edits are not covered.)
public enum QuantizedMetadata {
    /// `general.quantization_version`, set to ``quantizationVersion``.
    public static let quantizationVersionKey = "general.quantization_version"
    /// `GGML_QNT_VERSION`: the value llama-quantize writes (a `UInt32`).
    public static let quantizationVersion: UInt32 = 2
    /// `general.file_type`, set to the file type's id (a `UInt32`).
    public static let fileTypeKey = "general.file_type"
    /// Keys llama-quantize removes from a single-file output.
    public static let removedKeys: [String] = [SplitPolicy.Key.number, SplitPolicy.Key.count, SplitPolicy.Key.tensorsCount]

    /// `metadata` with llama-quantize's edits for `fileType`, and the provenance keys of `importance`
    /// (``ImportanceMatrix/quantizeMetadata``) when given.
    public static func apply(to metadata: Metadata, fileType: FileType, importance: ImportanceMatrix? = nil) -> Metadata {
        var result = metadata
        result.set(quantizationVersionKey, .uint32(quantizationVersion))
        result.set(fileTypeKey, .uint32(fileType.rawValue))
        for key in removedKeys { result.remove(key) }
        for (key, value) in importance?.quantizeMetadata ?? [] { result.set(key, value) }
        return result
    }
}

extension ImportanceMatrix {
    /// `quantize.imatrix.file`: the path the matrix was given as.
    public static let fileKey = "quantize.imatrix.file"
    /// `quantize.imatrix.dataset`: the first dataset, when the matrix names one.
    public static let datasetKey = "quantize.imatrix.dataset"
    /// `quantize.imatrix.entries_count`: the entries used (after `--include-weights`/`--exclude-weights`).
    public static let entriesCountKey = "quantize.imatrix.entries_count"
    /// `quantize.imatrix.chunks_count`: the chunk count, when positive.
    public static let chunksCountKey = "quantize.imatrix.chunks_count"

    /// The keys llama-quantize records about the matrix, in its order (its `kv_overrides`): strings cut
    /// to 127 bytes (`strncpy` into `val_str[128]`), counts as `UInt32`.
    public var quantizeMetadata: [(String, MetadataValue)] {
        func cut(_ text: String) -> String { String(decoding: text.utf8.prefix(127), as: UTF8.self) }
        var keys: [(String, MetadataValue)] = [(Self.fileKey, .string(cut(path)))]
        if let dataset = datasets.first { keys.append((Self.datasetKey, .string(cut(dataset)))) }
        keys.append((Self.entriesCountKey, .uint32(UInt32(truncatingIfNeeded: entries.count))))
        if chunkCount > 0 { keys.append((Self.chunksCountKey, .uint32(UInt32(truncatingIfNeeded: chunkCount)))) }
        return keys
    }
}
