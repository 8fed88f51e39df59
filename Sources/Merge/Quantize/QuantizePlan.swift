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
    /// the others are dequantized to float and encoded, as llama-quantize does.
    ///
    /// - Parameter allowRequantize: a quantized tensor may be re-encoded in another quantized type
    ///   (llama-quantize's `--allow-requantize`); otherwise that is an error.
    public static func quantize(_ input: InputModel, fileType: FileType, options: QuantizationOptions = .init(),
                                allowRequantize: Bool = false) throws(MergeError) -> MergePlan {
        let model = input.model
        let tensors = model.tensors.map { QuantizationRecipe.Tensor(name: $0.name, shape: $0.shape, type: $0.type) }
        let recipe: QuantizationRecipe
        do {
            recipe = try QuantizationRecipe(fileType: fileType, options: options,
                                            model: try ModelHyperparameters(metadata: model.metadata), tensors: tensors)
        } catch {
            throw .incompatible("\(input.label): \(error)")
        }
        var jobs: [TensorJob] = []
        for index in recipe.order {
            let tensor = model.tensors[index]
            let type = recipe.type(forTensorAt: index)
            if type != tensor.type, !allowRequantize, tensor.type != .f32, tensor.type != .f16, tensor.type != .bf16 {
                throw .incompatible("\(input.label): tensor \(tensor.name) is already quantized (\(tensor.type.name)); "
                                    + "pass --allow-requantize to re-encode it as \(type.name)")
            }
            guard Codecs.canQuantize(type) || type == tensor.type else {
                throw .unsupportedType(file: "output", tensor: tensor.name, type: type.name)
            }
            jobs.append(TensorJob(name: tensor.name, shape: tensor.shape, outputType: type,
                                  operation: .copy(TensorSource(input: 0, tensor: tensor))))
        }
        let entries = QuantizedMetadata.apply(to: Array(model.metadata), fileType: fileType) { MetadataValue.uint32($0) }
        return MergePlan(methodName: nil, inputs: [input], jobs: jobs,
                         metadata: Metadata(entries.map { ($0.key, $0.value) }))
    }
}
