import GGUF

/// What llama-quantize reads from a model's metadata to choose tensor types.
///
/// Fill it from `general.architecture` and the `<arch>.*` keys; see each property.
public struct ModelHyperparameters: Sendable, Hashable {
    /// `general.architecture` (`llama`, `falcon`, `qwen2`, …).
    public var architecture: String
    /// `<arch>.block_count` (llama.cpp's `n_layer_all`): the layer count `ffn_down`, `ffn_gate` and
    /// `ffn_up` rules divide into eighths.
    public var blockCount: Int
    /// `<arch>.attention.head_count` (its first element when it is a per-layer array); 0 if absent.
    public var headCount: Int
    /// `<arch>.attention.head_count_kv` (first element when an array); nil if absent (then
    /// `headCount`, as llama.cpp defaults it).
    public var headCountKV: Int?
    /// `<arch>.expert_count`; 0 if absent.
    public var expertCount: Int

    public init(architecture: String, blockCount: Int, headCount: Int = 0, headCountKV: Int? = nil,
                expertCount: Int = 0) {
        self.architecture = architecture
        self.blockCount = blockCount
        self.headCount = headCount
        self.headCountKV = headCountKV
        self.expertCount = expertCount
    }

    /// Reads the hyperparameters through `integer`, which returns a metadata key's value as an `Int`
    /// (for a per-layer array, its first element), or nil when the key is absent.
    ///
    /// - Throws: `QuantError.missingMetadata` when `<arch>.block_count` is absent or not positive
    ///   (llama.cpp refuses such a model).
    public init(architecture: String, integer: (_ key: String) -> Int?) throws(QuantError) {
        let blockCountKey = "\(architecture).block_count"
        guard let blockCount = integer(blockCountKey), blockCount > 0 else { throw .missingMetadata(key: blockCountKey) }
        self.init(architecture: architecture, blockCount: blockCount,
                  headCount: integer("\(architecture).attention.head_count") ?? 0,
                  headCountKV: integer("\(architecture).attention.head_count_kv"),
                  expertCount: integer("\(architecture).expert_count") ?? 0)
    }

    /// llama.cpp's `hparams.n_gqa()`: query heads per KV head (layer 0), 0 without KV heads.
    public var groupedQueryFactor: Int {
        let kv = headCountKV ?? headCount
        return kv == 0 ? 0 : headCount / kv
    }

    /// Whether llama.cpp classifies the model as `LLM_TYPE_70B`, which gives `attn_v` more bits:
    /// `llama` with 80 layers, not 8 experts and grouped-query attention; `deci`, `olmo`, `qwen2` with
    /// 80 layers; `jais2` with 68 (each architecture's `load_arch_hparams`; MTP layers are not
    /// subtracted here).
    public var isLLMType70B: Bool {
        switch architecture {
        case "llama": expertCount != 8 && blockCount == 80 && headCount != (headCountKV ?? headCount)
        case "deci", "olmo", "qwen2": blockCount == 80
        case "jais2": blockCount == 68
        default: false
        }
    }
}

/// llama-quantize's options that change which type a tensor gets (`llama_model_quantize_params`).
public struct QuantizationOptions: Sendable, Hashable {
    /// `--pure`: every quantizable tensor gets the file type's base type (before shape fallbacks).
    public var pure: Bool
    /// `--leave-output-tensor`: `output.weight` keeps its input type.
    public var leaveOutputTensor: Bool
    /// `--output-tensor-type`: the type of `output.weight` (and of tied token embeddings).
    public var outputTensorType: GGMLType?
    /// `--token-embedding-type`: the type of `token_embd.weight` / `per_layer_token_embd.weight`.
    public var tokenEmbeddingType: GGMLType?
    /// `--tensor-type PATTERN=TYPE`, in order: the first pattern found anywhere in a tensor's name
    /// (a regular-expression search, like `std::regex_search`; llama-quantize lowercases the pattern)
    /// sets its type. Ignored, as in llama-quantize, when the file type's base type is not a block type
    /// (F32, F16, BF16).
    public var tensorTypeOverrides: [TensorTypeOverride]
    /// `--imatrix`: an importance matrix will be given (`qs.has_imatrix`). Some mixture rules differ
    /// with one, and types that need one are allowed.
    public var hasImportanceMatrix: Bool

    public init(pure: Bool = false, leaveOutputTensor: Bool = false, outputTensorType: GGMLType? = nil,
                tokenEmbeddingType: GGMLType? = nil, tensorTypeOverrides: [TensorTypeOverride] = [],
                hasImportanceMatrix: Bool = false) {
        self.hasImportanceMatrix = hasImportanceMatrix
        self.pure = pure
        self.leaveOutputTensor = leaveOutputTensor
        self.outputTensorType = outputTensorType
        self.tokenEmbeddingType = tokenEmbeddingType
        self.tensorTypeOverrides = tensorTypeOverrides
    }
}

/// One `--tensor-type PATTERN=TYPE` option.
public struct TensorTypeOverride: Sendable, Hashable {
    /// A regular expression searched for in tensor names (lowercased, as llama-quantize does).
    public var pattern: String
    public var type: GGMLType

    public init(pattern: String, type: GGMLType) {
        self.pattern = pattern.lowercased()
        self.type = type
    }
}

/// The tensor types llama-quantize chooses for a whole model: a pure reimplementation of
/// `llama_tensor_get_type` and its surroundings in llama.cpp's `src/llama-quant.cpp`.
///
/// Give it the file type, the options, the model's hyperparameters and every tensor of the input
/// (name, shape in ggml order, current type) in any order. It visits them in llama-quantize's output
/// order (``TensorOrder``), because the per-layer counters of the `attn_v`/`ffn_down` rules
/// (`use_more_bits`, the `Q3_K_M` first-two-`attn_v` rule, …) count tensors in that order, and gives:
///
/// - tensors llama-quantize does not quantize (fewer than 2 dimensions after dropping trailing 1s;
///   names not ending in `weight`; `_norm.weight`; `ffn_gate_inp`, `position_embd`, `token_types`,
///   `ssm_conv1d`, … — `tensor_allows_quantization`) keep their input type;
/// - the others get the file type's base type, changed by the `--tensor-type`/`--output-tensor-type`/
///   `--token-embedding-type` options or, unless `pure`, by the mixture rules (`output.weight` and tied
///   embeddings to Q6_K, Q4_K_M's Q6_K `attn_v`/`ffn_down` layers, …), then demoted when the row
///   length is not a multiple of the block size (`tensor_type_fallback`: Q4_K → Q5_0, Q6_K → Q8_0, …,
///   F16 as a last resort).
///
/// The rules that depend on an importance matrix follow `options.hasImportanceMatrix`; without one, a
/// tensor whose chosen type needs one (IQ1/IQ2/IQ3_XXS, Q2_K in a Q2_K_S file) is an error, as it is
/// for llama-quantize (``requiresImportanceMatrix(_:)`` tells which tensors need an entry).
public struct QuantizationRecipe: Sendable {
    /// An input tensor: its name, its shape in ggml order (`ne[0]` = row length first) and its type.
    public struct Tensor: Sendable, Hashable {
        public var name: String
        public var shape: [Int]
        public var type: GGMLType

        public init(name: String, shape: [Int], type: GGMLType) {
            self.name = name
            self.shape = shape
            self.type = type
        }
    }

    public let fileType: FileType
    public let options: QuantizationOptions
    public let model: ModelHyperparameters
    /// The input tensors, in the order given.
    public let tensors: [Tensor]
    /// The output type of each input tensor (same indices as ``tensors``).
    public let types: [GGMLType]
    /// The indices of ``tensors`` in the order llama-quantize writes them.
    public let order: [Int]
    /// How many tensors needed a shape fallback (llama-quantize warns about each).
    public let fallbackCount: Int
    /// The tensors that needed one, by name: the type the rules chose, which their rows do not fit
    /// (`types` holds the fallback actually used).
    public let fallbacks: [String: GGMLType]

    /// The output type of `tensors[index]`.
    public func type(forTensorAt index: Int) -> GGMLType { types[index] }

    /// Whether `tensors[index]`'s output type needs an importance matrix entry (`tensor_requires_imatrix`):
    /// llama-quantize refuses to write it without one.
    public func requiresImportanceMatrix(_ index: Int) -> Bool {
        isConverted(index) && tensorRequiresImportanceMatrix(name: tensors[index].name, type: types[index], fileType: fileType)
    }

    /// Whether llama-quantize would run the tensor through its quantizer at all (it copies the bytes
    /// of tensors whose type does not change).
    public func isConverted(_ index: Int) -> Bool { types[index] != tensors[index].type }

    /// Chooses every tensor's type.
    ///
    /// - Throws: `QuantError.unsupportedFileType` for `NVFP4`; `.requiresImportanceMatrix` when a
    ///   tensor would need one; `.noTypeFallback` when a tensor's row length fits neither its type nor
    ///   a fallback llama.cpp defines; `.badLayer` for an expert model's layer tensor without a valid
    ///   `blk.N.` prefix; `.invalidTensorTypePattern` for a pattern that is not a regular expression.
    public init(fileType: FileType, options: QuantizationOptions = .init(), model: ModelHyperparameters,
                tensors: [Tensor]) throws(QuantError) {
        guard fileType.isOfferedByLlamaQuantize else { throw .unsupportedFileType(fileType) }
        self.fileType = fileType
        self.options = options
        self.model = model
        self.tensors = tensors
        self.order = TensorOrder.sortedIndices(of: tensors.map(\.name))

        var patterns: [(regex: Regex<AnyRegexOutput>, type: GGMLType)] = []
        for override in options.tensorTypeOverrides {
            guard let regex = try? Regex(override.pattern) else { throw .invalidTensorTypePattern(override.pattern) }
            patterns.append((regex, override.type))
        }

        var state = RecipeState(fileType: fileType, options: options, model: model, patterns: patterns)
        for tensor in tensors {
            let category = TensorCategory(name: tensor.name)
            if category.isAttentionVLike { state.attentionWVCount += 1 }
            if category == .output { state.hasTiedEmbeddings = false }
        }
        state.ffnLayerCount = model.blockCount

        var types = tensors.map(\.type)
        for index in order {
            let tensor = tensors[index]
            guard state.allowsQuantization(tensor) else { continue }
            let type = try state.type(for: tensor)
            if !options.hasImportanceMatrix && tensorRequiresImportanceMatrix(name: tensor.name, type: type, fileType: fileType) {
                throw .requiresImportanceMatrix(tensor: tensor.name, type: type)
            }
            types[index] = type
        }
        self.types = types
        self.fallbackCount = state.fallbackCount
        self.fallbacks = state.fallbacks
    }
}

/// llama.cpp's `tensor_requires_imatrix`.
private func tensorRequiresImportanceMatrix(name: String, type: GGMLType, fileType: FileType) -> Bool {
    if name == "token_embd.weight" || name == "per_layer_token_embd.weight" || name == "output.weight" {
        return false
    }
    switch type {
    case .iq3_XXS, .iq2_XXS, .iq2_XS, .iq2_S, .iq1_M, .iq1_S: return true
    case .q2_K: return fileType == .q2_K_S
    default: return false
    }
}

/// llama-quant.cpp's `tensor_category`: broad roles by name.
enum TensorCategory: Equatable {
    case tokenEmbedding, attentionQ, attentionV, attentionK, attentionQKV, attentionKVB, attentionOutput
    case ffnUp, ffnGate, ffnDown, output, other

    init(name: String) {
        if name == "output.weight" { self = .output }
        else if name == "token_embd.weight" || name == "per_layer_token_embd.weight" { self = .tokenEmbedding }
        else if name.contains("attn_qkv.weight") { self = .attentionQKV }
        else if name.contains("attn_kv_b.weight") { self = .attentionKVB }
        else if name.contains("attn_v.weight") { self = .attentionV }
        else if name.contains("attn_k.weight") { self = .attentionK }
        else if name.contains("attn_q.weight") { self = .attentionQ }
        else if name.contains("attn_output.weight") { self = .attentionOutput }
        else if name.contains("ffn_up") { self = .ffnUp }
        else if name.contains("ffn_gate") { self = .ffnGate }
        else if name.contains("ffn_down") { self = .ffnDown }
        else { self = .other }
    }

    /// `category_is_attn_v`: the tensors as sensitive as `attn_v`.
    var isAttentionVLike: Bool { self == .attentionV || self == .attentionQKV || self == .attentionKVB }
}

/// `quantize_state_impl`: the counters the rules read and advance while visiting tensors in order.
struct RecipeState {
    let fileType: FileType
    let options: QuantizationOptions
    let model: ModelHyperparameters
    let patterns: [(regex: Regex<AnyRegexOutput>, type: GGMLType)]

    var attentionWVCount = 0
    var ffnLayerCount = 0
    var attentionWVIndex = 0
    var ffnDownIndex = 0
    var ffnGateIndex = 0
    var ffnUpIndex = 0
    var fallbackCount = 0
    var fallbacks: [String: GGMLType] = [:]
    var hasTiedEmbeddings = true

    init(fileType: FileType, options: QuantizationOptions, model: ModelHyperparameters,
         patterns: [(regex: Regex<AnyRegexOutput>, type: GGMLType)]) {
        self.fileType = fileType
        self.options = options
        self.model = model
        self.patterns = patterns
    }

    /// `tensor_allows_quantization`.
    func allowsQuantization(_ tensor: QuantizationRecipe.Tensor) -> Bool {
        // ggml_n_dims: trailing dimensions of 1 do not count.
        var dims = 1
        for i in stride(from: tensor.shape.count - 1, through: 1, by: -1) where tensor.shape[i] > 1 {
            dims = i + 1
            break
        }
        if dims < 2 { return false }
        let name = tensor.name
        guard name.hasSuffix("weight") else { return false }
        if name.contains("_norm.weight") { return false }
        if options.leaveOutputTensor && name == "output.weight" { return false }
        if name == "position_embd.weight" || name == "token_types.weight" { return false }
        for part in Self.neverQuantized where name.contains(part) { return false }
        if model.architecture == "glm5-next" {
            for part in Self.neverQuantizedGLM5Next where name.contains(part) { return false }
        }
        return true
    }

    /// Name parts of tensors llama-quantize never quantizes (small, or precision-critical).
    static let neverQuantized = [
        "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
        "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
        "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
        "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
        "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
        "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos",
        ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
    ]

    static let neverQuantizedGLM5Next = [
        "hc_", "indexer.attn_q_b", "indexer.attn_k", "indexer.proj", "indexer_compressor_gate",
        "indexer_compressor_ape", "ssm_f_a.weight", "ssm_f_b.weight", "ssm_g_a.weight", "ssm_g_b.weight",
        "ssm_beta.weight", "attn_kv_a_mqa.weight", "attn_k_b.weight", "attn_v_b.weight",
    ]

    /// `llama_tensor_get_type`, for a tensor that allows quantization.
    mutating func type(for tensor: QuantizationRecipe.Tensor) throws(QuantError) -> GGMLType {
        let category = TensorCategory(name: tensor.name)
        if let embedding = options.tokenEmbeddingType, category == .tokenEmbedding {
            // per_layer_token_embd follows --token-embedding-type unless a --tensor-type names it.
            let named = tensor.name == "per_layer_token_embd.weight" && matchingOverride(tensor.name) != nil
            if !named { return embedding }
        }
        if let output = options.outputTensorType, category == .output { return output }

        let base = fileType.baseType
        guard base.isBlockType else { return base }
        var type = base
        if let manual = matchingOverride(tensor.name) {
            type = manual
        } else if !options.pure {
            type = try mixtureType(for: tensor, base: type, category: category)
        }
        return try fallback(for: tensor, type)
    }

    func matchingOverride(_ name: String) -> GGMLType? {
        for pattern in patterns where name.contains(pattern.regex) { return pattern.type }
        return nil
    }

    /// `tensor_type_fallback`: a type whose block size divides the row length.
    mutating func fallback(for tensor: QuantizationRecipe.Tensor, _ type: GGMLType) throws(QuantError) -> GGMLType {
        let columns = tensor.shape.first ?? 1
        guard columns % type.blockSize != 0 else { return type }
        fallbackCount += 1
        fallbacks[tensor.name] = type
        var result: GGMLType
        switch type {
        case .iq1_S, .iq1_M, .iq2_XXS, .iq2_XS, .iq2_S, .iq3_XXS, .iq3_S, .iq4_XS: result = .iq4_NL
        case .q2_0, .q2_K, .q3_K, .tq1_0, .tq2_0: result = .q4_0
        case .q4_K: result = .q5_0
        case .q5_K: result = .q5_1
        case .q6_K: result = .q8_0
        default:
            guard type.blockSize <= 32 else { throw .noTypeFallback(tensor: tensor.name, type: type, columns: columns) }
            result = type
        }
        if columns % result.blockSize != 0 { result = .f16 }
        return result
    }

    /// `llama_tensor_get_type_impl`: the mixture rules of the file type.
    mutating func mixtureType(for tensor: QuantizationRecipe.Tensor, base: GGMLType,
                              category: TensorCategory) throws(QuantError) -> GGMLType {
        let name = tensor.name
        let arch = model.architecture
        let ftype = fileType
        let gqa = model.groupedQueryFactor
        let experts = model.expertCount
        var type = base

        func useMoreBits(_ layer: Int, _ layers: Int) -> Bool {
            layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2
        }
        // With experts, the layer comes from the name (their tensors are not in layer order).
        func layerInfo(_ counter: Int) throws(QuantError) -> (layer: Int, layers: Int) {
            let layers = ffnLayerCount
            guard Swift.max(1, experts) > 1 else { return (counter, layers) }
            // sscanf("blk.%d.") failing and a layer outside [0, n_layer) are both errors in llama.cpp.
            let layer = TensorOrder.layer(of: name)
            guard layer >= 0, layer < layers else {
                throw .badLayer(tensor: name, layers: layers)
            }
            return (layer, layers)
        }

        if arch == "glm5-next", name.contains("attn_q_a") || name.contains("attn_q_b") || name.contains("nextn.eh_proj") {
            switch type {
            case .f32, .bf16, .f16: break
            default: return .q8_0
            }
        }

        let iq2Family: Set<FileType> = [.iq2_XXS, .iq2_XS, .iq1_S, .iq2_S, .iq2_M, .iq1_M]

        if category == .output || (hasTiedEmbeddings && category == .tokenEmbedding) {
            if let output = options.outputTensorType {
                type = output
            } else {
                let columns = tensor.shape.first ?? 1
                if ftype == .mxfp4_MOE {
                    type = .q8_0
                } else if arch == "falcon" || columns % type.blockSize != 0 {
                    type = .q8_0
                } else if [.iq2_XXS, .iq2_XS, .iq3_XXS, .iq1_S, .iq2_S, .iq2_M, .iq1_M].contains(ftype) {
                    type = .q5_K
                } else if type != .q8_0 {
                    type = .q6_K
                }
            }
        } else if ftype == .mxfp4_MOE {
            let isBailingExpert = arch == "bailingmoe3" && [.ffnUp, .ffnGate, .ffnDown].contains(category)
            let thirdDimension = tensor.shape.count > 2 ? tensor.shape[2] : 1
            type = thirdDimension > 1 && (arch != "bailingmoe3" || isBailingExpert) ? .mxfp4 : .q8_0
        } else if category == .tokenEmbedding {
            if let embedding = options.tokenEmbeddingType {
                type = embedding
            } else if [.iq2_XXS, .iq2_XS, .iq1_S, .iq1_M].contains(ftype) {
                type = .q2_K
            } else if ftype == .iq2_S || ftype == .iq2_M {
                type = .iq3_S
            } else if ftype == .iq3_XXS {
                type = .iq3_S
            } else if ftype == .tq1_0 || ftype == .tq2_0 || ftype == .q2_0 {
                type = .q4_K
            }
        } else if iq2Family.contains(ftype) {
            let iq2SOrM = ftype == .iq2_S || ftype == .iq2_M
            if category.isAttentionVLike {
                if gqa >= 4 || experts >= 4 { type = .q4_K } else { type = iq2SOrM ? .iq3_S : .q2_K }
                attentionWVIndex += 1
            } else if experts == 8 && category == .attentionK {
                type = .q4_K
            } else if category == .ffnDown {
                if ffnDownIndex < ffnLayerCount / 8 { type = iq2SOrM ? .iq3_S : .q2_K }
                ffnDownIndex += 1
            } else if category == .attentionOutput {
                if experts == 8 {
                    type = .q5_K
                } else if ftype == .iq1_S || ftype == .iq1_M {
                    type = .iq2_XXS
                } else if iq2SOrM {
                    type = .iq3_S
                }
            }
        } else if category.isAttentionVLike {
            if ftype == .q2_K {
                type = gqa >= 4 ? .q4_K : .q3_K
            } else if ftype == .q2_K_S && gqa >= 4 {
                type = .q4_K
            } else if ftype == .iq3_XXS {
                type = gqa >= 4 ? .q4_K : options.hasImportanceMatrix ? .iq3_XXS : .iq3_S
            } else if (ftype == .iq3_XS || ftype == .iq3_S) && gqa >= 4 {
                type = .q4_K
            } else if ftype == .iq3_M {
                type = .q4_K
            } else if ftype == .q3_K_M {
                type = attentionWVIndex < 2 ? .q5_K : .q4_K
            } else if ftype == .q3_K_L {
                type = .q5_K
            } else if (ftype == .iq4_NL || ftype == .iq4_XS) && gqa >= 4 {
                type = .q5_K
            } else if (ftype == .q4_K_M || ftype == .q5_K_M) && useMoreBits(attentionWVIndex, attentionWVCount) {
                type = .q6_K
            } else if ftype == .q4_K_S && attentionWVIndex < 4 {
                type = .q5_K
            }
            if model.isLLMType70B && (type == .q3_K || type == .q4_K) { type = .q5_K }
            if experts == 8 { type = .q8_0 }
            attentionWVIndex += 1
        } else if category == .attentionK {
            if experts == 8 {
                type = .q8_0
            } else if ftype == .iq3_XS {
                type = .iq3_XXS
            } else if ftype == .iq3_XXS {
                type = .iq2_S
            }
        } else if category == .attentionQ {
            if ftype == .iq3_XS {
                type = .iq3_XXS
            } else if ftype == .iq3_XXS {
                type = .iq2_S
            }
        } else if category == .ffnDown {
            let (layer, layers) = try layerInfo(ffnDownIndex)
            if ftype == .q2_K {
                type = .q3_K
            } else if ftype == .q2_K_S {
                if layer < layers / 8 { type = .q4_K }
            } else if ftype == .iq3_XXS && !options.hasImportanceMatrix {
                type = layer < layers / 8 ? .q4_K : .q3_K
            } else if ftype == .q3_K_M {
                type = layer < layers / 16 ? .q5_K
                    : arch != "falcon" || useMoreBits(layer, layers) ? .q4_K : .q3_K
            } else if ftype == .iq3_M && (layer < layers / 8 || (experts == 8 && useMoreBits(layer, layers))) {
                type = .q4_K
            } else if ftype == .q3_K_L {
                type = arch == "falcon" ? .q4_K : .q5_K
            } else if ftype == .q4_K_M {
                if arch == "falcon" {
                    type = layer < layers / 16 ? .q6_K : useMoreBits(layer, layers) ? .q5_K : .q4_K
                } else if useMoreBits(layer, layers) {
                    type = .q6_K
                }
            } else if layer < layers / 8 && (ftype == .iq4_NL || ftype == .iq4_XS) && !options.hasImportanceMatrix {
                type = .q5_K
            } else if ftype == .q5_K_M && useMoreBits(layer, layers) {
                type = .q6_K
            } else if ftype == .q4_K_S && arch != "falcon" && layer < layers / 8 {
                type = .q5_K
            } else if (ftype == .q4_0 || ftype == .q5_0) && options.hasImportanceMatrix && layer < layers / 8 {
                type = ftype == .q4_0 ? .q4_1 : .q5_1
            }
            ffnDownIndex += 1
        } else if category == .attentionOutput {
            if arch != "falcon" {
                if experts == 8 {
                    let bumped: Set<FileType> = [.q2_K, .iq3_XS, .iq3_XXS, .q3_K_S, .q3_K_M, .iq4_NL, .q4_K_S,
                                                 .q4_K_M, .iq3_S, .iq3_M, .iq4_XS]
                    if bumped.contains(ftype) { type = .q5_K }
                } else {
                    switch ftype {
                    case .q2_K: type = .q3_K
                    case .iq3_XXS: type = .iq3_S
                    case .q3_K_M: type = .q4_K
                    case .q3_K_L: type = .q5_K
                    case .iq3_M: type = .q4_K
                    default: break
                    }
                }
            } else if ftype == .q3_K_L {
                type = .q4_K
            }
        } else if category == .attentionQKV {
            if ftype == .q3_K_M || ftype == .q3_K_L || ftype == .iq3_M {
                type = .q4_K
            } else if ftype == .q4_K_M {
                type = .q5_K
            } else if ftype == .q5_K_M {
                type = .q6_K
            }
        } else if category == .ffnGate {
            let (layer, layers) = try layerInfo(ffnGateIndex)
            if ftype == .iq3_XS && layer >= layers / 8 && layer < 7 * layers / 8 { type = .iq3_XXS }
            ffnGateIndex += 1
        } else if category == .ffnUp {
            let (layer, layers) = try layerInfo(ffnUpIndex)
            if ftype == .iq3_XS && layer >= layers / 8 && layer < 7 * layers / 8 { type = .iq3_XXS }
            ffnUpIndex += 1
        }
        return type
    }
}

extension GGMLType {
    /// Whether ggml stores this type in multi-element blocks (`ggml_is_quantized`): false for F32,
    /// F16, BF16, F64 and the integer types.
    var isBlockType: Bool { blockSize > 1 }
}
