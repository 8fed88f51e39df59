/// The metadata edits llama-quantize makes (`llama_model_quantize_impl` in `src/llama-quant.cpp`),
/// expressed over key names so that any metadata representation can apply them.
///
/// llama-quantize copies every input key in input order, then sets `general.quantization_version` to
/// 2 and `general.file_type` to the file type id, both as `UInt32`; setting a key that exists removes it
/// from its place and appends it (`gguf_set_val_*`). Finally it removes `split.no`, `split.count` and
/// `split.tensors.count` (and writes new ones only with `--keep-split`, which this project does not
/// reproduce). (`--override-kv` and `--prune-layers` edits are not covered.)
public enum QuantizedMetadata {
    /// `general.quantization_version`, set to ``quantizationVersion``.
    public static let quantizationVersionKey = "general.quantization_version"
    /// `GGML_QNT_VERSION`: the value llama-quantize writes (a `UInt32`).
    public static let quantizationVersion: UInt32 = 2
    /// `general.file_type`, set to the file type's id (a `UInt32`).
    public static let fileTypeKey = "general.file_type"
    /// Keys llama-quantize removes from a single-file output.
    public static let removedKeys: [String] = ["split.no", "split.count", "split.tensors.count"]

    /// The keys llama-quantize writes, in order, given the input's keys in order: the input keys
    /// without the two it sets and the split keys, then `general.quantization_version`, then
    /// `general.file_type`.
    public static func outputKeys(from inputKeys: [String]) -> [String] {
        var keys = inputKeys.filter { $0 != quantizationVersionKey && $0 != fileTypeKey && !removedKeys.contains($0) }
        keys.append(quantizationVersionKey)
        keys.append(fileTypeKey)
        return keys
    }

    /// Applies llama-quantize's edits to an ordered list of entries: ``outputKeys(from:)``'s order, with
    /// the two set keys given the values `uint32(2)` and `uint32(fileType.rawValue)`.
    ///
    /// `uint32` builds the metadata value for a `UInt32` in the caller's representation (for example
    /// `{ .uint32($0) }`).
    public static func apply<Value>(to entries: [(key: String, value: Value)], fileType: FileType,
                                    uint32: (UInt32) -> Value) -> [(key: String, value: Value)] {
        var result = entries.filter {
            $0.key != quantizationVersionKey && $0.key != fileTypeKey && !removedKeys.contains($0.key)
        }
        result.append((quantizationVersionKey, uint32(quantizationVersion)))
        result.append((fileTypeKey, uint32(fileType.rawValue)))
        return result
    }
}
