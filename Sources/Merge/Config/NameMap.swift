/// Tensor names in llama.cpp's GGUF naming and in Hugging Face (transformers) naming, for the llama-style
/// architectures (llama, mistral, qwen2/3, …), so that mergekit's `filter:` strings, written against
/// Hugging Face names, select the same tensors in a GGUF model.
///
/// | GGUF                          | Hugging Face                                   |
/// |-------------------------------|------------------------------------------------|
/// | `token_embd.weight`           | `model.embed_tokens.weight`                    |
/// | `output_norm.weight`          | `model.norm.weight`                            |
/// | `output.weight`               | `lm_head.weight`                               |
/// | `blk.N.attn_norm.*`           | `model.layers.N.input_layernorm.*`             |
/// | `blk.N.attn_q/k/v.*`          | `model.layers.N.self_attn.q/k/v_proj.*`        |
/// | `blk.N.attn_output.*`         | `model.layers.N.self_attn.o_proj.*`            |
/// | `blk.N.attn_q_norm/k_norm.*`  | `model.layers.N.self_attn.q_norm/k_norm.*`     |
/// | `blk.N.ffn_norm.*`            | `model.layers.N.post_attention_layernorm.*`    |
/// | `blk.N.ffn_gate/up/down.*`    | `model.layers.N.mlp.gate/up/down_proj.*`       |
///
/// `*` is `weight` or `bias`. Names outside the table (e.g. `rope_freqs.weight`) have no Hugging Face
/// name. (Architectures that name norms differently, such as gemma2's extra norms, are not mapped.)
public enum NameMap {
    /// Per-layer GGUF names (between `blk.N.` and `.weight`/`.bias`) and their Hugging Face names
    /// (between `model.layers.N.` and the suffix).
    static let layerNames: [(gguf: String, hf: String)] = [
        ("attn_norm", "input_layernorm"),
        ("attn_q", "self_attn.q_proj"),
        ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("attn_q_norm", "self_attn.q_norm"),
        ("attn_k_norm", "self_attn.k_norm"),
        ("ffn_norm", "post_attention_layernorm"),
        ("ffn_gate", "mlp.gate_proj"),
        ("ffn_up", "mlp.up_proj"),
        ("ffn_down", "mlp.down_proj"),
    ]

    /// Non-layer tensors.
    static let globalNames: [(gguf: String, hf: String)] = [
        ("token_embd", "model.embed_tokens"),
        ("output_norm", "model.norm"),
        ("output", "lm_head"),
    ]

    static let suffixes = [".weight", ".bias"]

    /// The layer index `N` of a `blk.N.…` name; nil for non-layer tensors.
    public static func layerIndex(of ggufName: String) -> Int? {
        guard ggufName.hasPrefix("blk.") else { return nil }
        let rest = ggufName.dropFirst(4)
        guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]), index >= 0 else { return nil }
        return index
    }

    /// The Hugging Face name of a GGUF tensor name; nil when the table has no entry for it.
    public static func huggingFaceName(forGGUF name: String) -> String? {
        guard let suffix = suffixes.first(where: { name.hasSuffix($0) }) else { return nil }
        let stem = String(name.dropLast(suffix.count))
        if let layer = layerIndex(of: name) {
            let part = stem.dropFirst("blk.\(layer).".count)
            guard let entry = layerNames.first(where: { $0.gguf == part }) else { return nil }
            return "model.layers.\(layer).\(entry.hf)\(suffix)"
        }
        guard let entry = globalNames.first(where: { $0.gguf == stem }) else { return nil }
        return entry.hf + suffix
    }

    /// The GGUF name of a Hugging Face tensor name; nil when the table has no entry for it.
    public static func ggufName(forHuggingFace name: String) -> String? {
        guard let suffix = suffixes.first(where: { name.hasSuffix($0) }) else { return nil }
        let stem = String(name.dropLast(suffix.count))
        if stem.hasPrefix("model.layers.") {
            let rest = stem.dropFirst("model.layers.".count)
            guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
            let part = rest[rest.index(after: dot)...]
            guard let entry = layerNames.first(where: { $0.hf == part }) else { return nil }
            return "blk.\(layer).\(entry.gguf)\(suffix)"
        }
        guard let entry = globalNames.first(where: { $0.hf == stem }) else { return nil }
        return entry.gguf + suffix
    }

    /// Whether a mergekit `filter:` string selects the GGUF tensor `ggufName`.
    ///
    /// mergekit tests `filter in tensor_name` on Hugging Face names. A filter that occurs in some
    /// Hugging Face name of the table (`self_attn`, `mlp`, `norm`, `q_proj`, `layers.3`, `attn`, …) is
    /// matched exactly that way, against this tensor's Hugging Face name, so configs written for
    /// mergekit select the same tensors. Any other filter is GGUF-style (`attn_q`, `ffn`, `blk.3.`,
    /// `output`, `token_embd`) and is matched against the GGUF name. A tensor without a Hugging Face
    /// name is matched on its GGUF name. `*` matches everything, as in mergekit.
    ///
    /// (So `attn` does not select `blk.N.attn_norm.weight`, whose Hugging Face name is
    /// `…input_layernorm.weight`, exactly as in mergekit.)
    public static func matches(filter: String, ggufName: String) -> Bool {
        if filter == "*" { return true }
        guard let hf = huggingFaceName(forGGUF: ggufName) else { return ggufName.contains(filter) }
        return isHuggingFaceStyle(filter, layer: layerIndex(of: ggufName) ?? 0)
            ? hf.contains(filter) : ggufName.contains(filter)
    }

    /// Whether `filter` occurs in a Hugging Face name of the table (layer names taken at `layer`).
    static func isHuggingFaceStyle(_ filter: String, layer: Int) -> Bool {
        for suffix in suffixes {
            for entry in globalNames where (entry.hf + suffix).contains(filter) { return true }
            for entry in layerNames where "model.layers.\(layer).\(entry.hf)\(suffix)".contains(filter) { return true }
        }
        return false
    }
}
