import GGUF
import Quant

extension ModelHyperparameters {
    /// What llama-quantize reads from a model's metadata (`general.architecture`, `<arch>.block_count`,
    /// head and expert counts; the first element of per-layer arrays).
    public init(metadata: Metadata) throws(QuantError) {
        try self.init(architecture: metadata["general.architecture"]?.string ?? "") { key in
            metadata[key]?.int ?? metadata[key]?.array?.first?.int
        }
    }
}

extension MergePlan {
    /// The plan `ggufmerge quantize` runs: llama-quantize's per-tensor types, tensor order and metadata
    /// edits over one input model. Tensors whose type does not change are copied byte for byte;
    /// the others are dequantized to float and encoded, as llama-quantize does, with their importance
    /// matrix entry when `importance` is given.
    ///
    /// - Parameters:
    ///   - allowRequantize: a quantized tensor may be re-encoded in another quantized type
    ///     (llama-quantize's `--allow-requantize`); otherwise that is an error.
    ///   - importance: llama-quantize's `--imatrix` (already filtered by `--include-weights` /
    ///     `--exclude-weights`); a matrix left without entries counts as none, as in llama-quantize.
    ///   - recipe: `.auto` promotes the `attn_v`/`ffn_down` tensors of a mix when they are requantized
    ///     from ≤ 5-bit types; `.promoted` always; `.llama` never (llama-quantize's types).
    ///   - output: when given, checked as `check(output:)` does.
    public static func quantize(_ input: InputModel, fileType: FileType, options: QuantizationOptions = .init(),
                                allowRequantize: Bool = false, importance: ImportanceMatrix? = nil,
                                recipe choice: RecipeChoice = .auto, output: OutputTarget? = nil) throws(MergeError) -> MergePlan {
        let importance = importance.flatMap { $0.entries.isEmpty ? nil : $0 }
        var options = options
        options.hasImportanceMatrix = importance != nil
        let model = input.model
        let tensors = model.tensors.map { QuantizationRecipe.Tensor(name: $0.name, shape: $0.shape, type: $0.type) }
        let recipe: QuantizationRecipe
        do {
            recipe = try QuantizationRecipe(fileType: fileType, options: options,
                                            model: try ModelHyperparameters(metadata: model.metadata), tensors: tensors)
        } catch {
            throw .quantization(error, context: input.label)
        }
        let promotions = recipe.promotions { index in
            switch choice {
            case .llama: false
            case .promoted: true
            case .auto: model.tensors[index].type.bitsPerWeight <= RecipeChoice.lowBitLimit
            }
        }
        let promoted = Dictionary(uniqueKeysWithValues: promotions.map { ($0.index, $0.to) })
        var jobs: [TensorJob] = []
        for index in recipe.order {
            let tensor = model.tensors[index]
            let type = promoted[index] ?? recipe.type(forTensorAt: index)
            if type != tensor.type, !allowRequantize, tensor.type != .f32, tensor.type != .f16, tensor.type != .bf16 {
                throw .incompatible("\(input.label): tensor \(tensor.name) is already quantized (\(tensor.type.name)); "
                                    + "pass --allow-requantize to re-encode it as \(type.name)")
            }
            guard Codecs.canQuantize(type) || type == tensor.type else {
                throw .unsupportedType(file: "output", tensor: tensor.name, type: type.name)
            }
            jobs.append(TensorJob(name: tensor.name, shape: tensor.shape, outputType: type,
                                  operation: .copy(TensorSource(input: 0, tensor: tensor)),
                                  importance: try importanceWeights(importance, recipe: recipe, index: index)))
        }
        var plan = MergePlan(methodName: nil, inputs: [input], jobs: jobs,
                             metadata: QuantizedMetadata.apply(to: model.metadata, fileType: fileType, importance: importance))
        plan.promotions = promotions
        plan.fallbacks = recipe.fallbacks
        try plan.checkCodecs()
        if let output { try plan.check(output: output) }
        return plan
    }

    /// The weights llama-quantize gives tensor `index` of `recipe` when it converts it: its entry in
    /// `importance`. A tensor whose type needs an entry and has none is an error (llama-quantize:
    /// "Missing importance matrix for tensor … in a very low-bit quantization"), raised here, before any
    /// output exists.
    static func importanceWeights(_ importance: ImportanceMatrix?, recipe: QuantizationRecipe,
                                  index: Int) throws(MergeError) -> [Float]? {
        guard let importance, recipe.isConverted(index) else { return nil }
        let tensor = recipe.tensors[index]
        do throws(ImportanceMatrixError) {
            if let weights = try importance.weights(for: tensor.name, shape: tensor.shape) { return weights }
            if recipe.requiresImportanceMatrix(index) {
                throw ImportanceMatrixError.missingEntry(path: importance.path, tensor: tensor.name, type: recipe.types[index])
            }
            return nil
        } catch {
            throw .importanceMatrix(error)
        }
    }
}
