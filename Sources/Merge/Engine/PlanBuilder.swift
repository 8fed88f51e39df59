import Foundation
import GGUF
import Quant

/// The output type of a merge.
public enum OutputType: Sendable, Equatable, CustomStringConvertible {
    /// Every tensor takes the type it has in the base (or first) model: a Q4_K_M mix stays one.
    case matchBase
    /// llama-quantize's per-tensor rules for a file type (`Q4_K_M`, `F16`, …).
    case fileType(FileType)

    /// Parses `--outtype` / `out_dtype` values: llama-quantize file types (`Q4_K_M`, `q8_0`, `F16`),
    /// tensor types with a file type of their own (`Q6_K`), and mergekit's dtypes (`float16`, `bfloat16`,
    /// `float32`).
    public init?(name: String) {
        switch name.lowercased() {
        case "float32", "fp32": self = .fileType(.f32)
        case "float16", "fp16", "half": self = .fileType(.f16)
        case "bfloat16": self = .fileType(.bf16)
        default:
            if let fileType = FileType(name: name) {
                self = .fileType(fileType)
            } else if let type = GGMLType(name: name), let fileType = FileType.allCases.first(where: { $0.baseType == type }) {
                self = .fileType(fileType)
            } else {
                return nil
            }
        }
    }

    public var description: String {
        switch self {
        case .matchBase: "the base model's types"
        case let .fileType(fileType): fileType.name
        }
    }
}

/// How to build a merge plan beyond what the config says.
public struct MergeOptions: Sendable {
    /// `--outtype`; nil: the config's `out_dtype`, else the base's types.
    public var outputType: OutputType?
    /// The output's `general.name`; nil: the config's `name`.
    public var outputName: String?
    /// The config text, stored under `ggufmerge.config` in the output.
    public var configText: String?
    /// `--recipe`: whether a llama-quantize mix raises `attn_v`/`ffn_down` for low-bit inputs.
    public var recipe: RecipeChoice
    /// `--imatrix`: the importance matrix a quantized `outputType` is encoded with; nil: the config's
    /// `imatrix:`, else none.
    public var importance: ImportanceMatrix?
    /// Where the output goes; when set, the plan checks it can be written there (`check(output:)`).
    public var output: OutputTarget?

    public init(outputType: OutputType? = nil, outputName: String? = nil, configText: String? = nil,
                recipe: RecipeChoice = .auto, importance: ImportanceMatrix? = nil, output: OutputTarget? = nil) {
        self.outputType = outputType
        self.outputName = outputName
        self.configText = configText
        self.recipe = recipe
        self.importance = importance
        self.output = output
    }
}

extension MergePlan {
    /// Plans `config`: opens every model (and LoRA adapter) it names, checks they can be merged, lays
    /// out the output tensors as mergekit's planner does, resolves each tensor's parameters, and picks
    /// each output type. Nothing is written; every error a run can know of in advance surfaces here
    /// (see `PlanChecks.swift`).
    public static func build(_ config: MergeConfig, options: MergeOptions = .init()) throws -> MergePlan {
        let method = try config.method()
        try config.validate(for: method)

        // Open every model once, in the order the config names them.
        var inputs: [InputModel] = []
        var inputIndex: [ModelReference: Int] = [:]
        for reference in config.referencedModels where inputIndex[reference] == nil {
            inputIndex[reference] = inputs.count
            inputs.append(try open(reference, config: config))
        }
        let layout = try MergeLayout(config: config) { (reference) throws(ConfigError) -> Int in
            let metadata = inputs[inputIndex[reference]!].model.metadata
            let architecture = metadata["general.architecture"]?.string ?? ""
            return metadata["\(architecture).block_count"]?.int ?? 0
        }
        try checkArchitectures(inputs)
        try checkHyperparameters(inputs)

        // The reference model: the base, else the first source; its metadata and types lead.
        let referenceModel = layout.baseModels.first.flatMap { $0 } ?? layout.slices[0].sources[0].model
        let reference = inputs[inputIndex[referenceModel]!]
        let names = outputTensorNames(config: config, layout: layout, reference: reference, inputs: inputs, inputIndex: inputIndex)
        let vocabulary = try VocabularyMerge(config: config, inputs: inputs, inputIndex: inputIndex)
        var vocabularyRows: [VocabularyKey: VocabularyRows] = [:]

        var jobs: [TensorJob] = []
        for (name, template) in names {
            guard let site = layout.site(of: name) else { continue }
            let slice = layout.slices[site.slice]
            var sources: [TensorSource] = []
            for (source, inputName) in zip(slice.sources, site.inputNames) {
                let input = inputs[inputIndex[source.model]!]
                guard let tensor = input.model.tensor(named: inputName) else {
                    throw MergeError.incompatible("\(input.label) has no tensor \(inputName) (needed for output \(name))")
                }
                sources.append(TensorSource(input: inputIndex[source.model]!, tensor: tensor))
            }
            var shape = sources[0].tensor.shape
            let resolved = try config.resolveParameters(for: method, at: site, layout: layout)
            try config.checkWeightSum(resolved, method: method, tensor: name)
            if let vocabulary, VocabularyMerge.isVocabularyTensor(name) {
                try vocabulary.plan(sources, baseIndex: resolved.baseIndex, inputs: inputs, output: name,
                                    shape: &shape, rows: &vocabularyRows)
            } else {
                try checkShapes(sources, inputs: inputs, output: name)
            }
            let exact = method.exactInput(parameters: resolved.global, modelParameters: resolved.perModel,
                                          baseIndex: resolved.baseIndex)
            let operation: TensorJob.Operation = if let exact {
                .copy(sources[exact])
            } else {
                .merge(sources: sources, baseIndex: resolved.baseIndex, parameters: resolved.global,
                       modelParameters: resolved.perModel, method: method)
            }
            jobs.append(TensorJob(name: name, shape: shape, outputType: template.type, operation: operation))
        }

        let outputType = try options.outputType ?? outputType(config)
        let importance = try options.importance ?? config.imatrix.map { (path) throws(MergeError) in
            do throws(ImportanceMatrixError) { return try ImportanceMatrix(path: path) } catch { throw .importanceMatrix(error) }
        }
        var promotions: [TypePromotion] = []
        var fallbacks: [String: GGMLType] = [:]
        if case let .fileType(fileType) = outputType {
            do {
                (promotions, fallbacks) = try applyRecipe(fileType, to: &jobs, metadata: reference.model.metadata,
                                                          importance: importance, recipe: options.recipe)
            } catch let error as QuantError {
                throw MergeError.quantization(error, context: options.outputType.map { "--outtype \($0)" } ?? config.file)
            }
        } else {
            try fallBackToEncodableTypes(&jobs)
            try attachImportance(importance, to: &jobs)
        }
        var metadata = try outputMetadata(config: config, options: options, reference: reference, inputs: inputs,
                                          inputIndex: inputIndex, layers: layout.layers.count, jobs: jobs,
                                          outputType: outputType)
        for (key, value) in importance?.quantizeMetadata ?? [] { metadata.set(key, value) }
        vocabulary?.write(into: &metadata, inputs: inputs)
        var plan = MergePlan(methodName: method.name, inputs: inputs, jobs: jobs, metadata: metadata)
        plan.promotions = promotions
        plan.fallbacks = fallbacks
        plan.vocabularyRows = vocabularyRows
        try plan.checkCodecs()
        if let output = options.output { try plan.check(output: output) }
        return plan
    }

    static func open(_ reference: ModelReference, config: MergeConfig) throws -> InputModel {
        let model = try InputModel.openModel(path: reference.path, context: "\(config.file): model '\(reference.text)'")
        var adapter: LoRAAdapter?
        if let path = reference.adapter {
            adapter = try LoRAAdapter(path: path, scale: Float(reference.adapterScale ?? 1))
            try adapter!.validate(against: model)
        }
        return InputModel(label: reference.text, model: model, adapter: adapter)
    }

    /// The config's output type: `out_dtype` when given. mergekit's `dtype` is its compute precision;
    /// ggufmerge always computes in F32, so `dtype` does not change the output's types.
    static func outputType(_ config: MergeConfig) throws -> OutputType {
        if let name = config.outDtype {
            guard let type = OutputType(name: name) else {
                throw ConfigError.invalid(file: config.file, at: nil, message: "out_dtype: unknown type '\(name)'")
            }
            return type
        }
        return .matchBase
    }

    static func checkArchitectures(_ inputs: [InputModel]) throws {
        let architectures = inputs.map { $0.model.metadata["general.architecture"]?.string ?? "?" }
        if let first = architectures.first, let other = architectures.firstIndex(where: { $0 != first }) {
            throw MergeError.incompatible("\(inputs[other].label) is a '\(architectures[other])' model, \(inputs[0].label) a '\(first)' model: architectures differ")
        }
    }

    static func checkShapes(_ sources: [TensorSource], inputs: [InputModel], output: String) throws {
        let first = sources[0]
        for source in sources.dropFirst() where source.tensor.shape != first.tensor.shape {
            let a = inputs[first.input].label, b = inputs[source.input].label
            if output.hasPrefix("token_embd") || output.hasPrefix("output.") , first.tensor.shape.count == 2,
               source.tensor.shape[0] == first.tensor.shape[0] {
                throw MergeError.incompatible("vocabulary sizes differ: \(a) has \(first.tensor.shape[1]) tokens, \(b) has \(source.tensor.shape[1]) (\(output)); choose a tokenizer (tokenizer_source: base, union or a model)")
            }
            throw MergeError.incompatible("tensor \(output): \(a) has shape \(first.tensor.shape), \(b) has \(source.tensor.shape)")
        }
    }

    /// The output tensors and, for each, the input tensor whose type it takes by default. With `models:`,
    /// the reference model's tensors in its order. With `slices:`, the first slice's tensors before the
    /// layers, each output layer's tensors (from its slice's first source), then the last slice's tensors
    /// after the layers.
    static func outputTensorNames(config: MergeConfig, layout: MergeLayout, reference: InputModel, inputs: [InputModel],
                                  inputIndex: [ModelReference: Int]) -> [(String, TensorInfo)] {
        if case .models = config.inputs {
            return reference.model.tensors.map { ($0.name, $0) }
        }
        func model(_ slice: Int) -> GGUFModel { inputs[inputIndex[layout.slices[slice].sources[0].model]!].model }
        var names: [(String, TensorInfo)] = []
        for tensor in model(0).tensors where NameMap.layerIndex(of: tensor.name) == nil && MergeLayout.isPreLayer(tensor.name) {
            names.append((tensor.name, tensor))
        }
        for layer in layout.layers {
            let prefix = "blk.\(layer.sourceLayers[0])."
            for tensor in model(layer.slice).tensors where tensor.name.hasPrefix(prefix) {
                names.append(("blk.\(layer.index)." + tensor.name.dropFirst(prefix.count), tensor))
            }
        }
        for tensor in model(layout.slices.count - 1).tensors
        where NameMap.layerIndex(of: tensor.name) == nil && !MergeLayout.isPreLayer(tensor.name) {
            names.append((tensor.name, tensor))
        }
        return names
    }

    /// Applies llama-quantize's per-tensor rules for `fileType` to the output tensors (as if every
    /// input were float), with each tensor's importance matrix entry when `importance` is given, then the
    /// requantization recipe's promotions that `recipe` asks for: by default those of merged tensors whose
    /// inputs are stored at ≤ 5 bits per weight. Returns the promotions and the recipe's shape fallbacks.
    static func applyRecipe(_ fileType: FileType, to jobs: inout [TensorJob], metadata: Metadata,
                            importance: ImportanceMatrix?,
                            recipe choice: RecipeChoice) throws -> ([TypePromotion], [String: GGMLType]) {
        let importance = importance.flatMap { $0.entries.isEmpty ? nil : $0 }
        let tensors = jobs.map { QuantizationRecipe.Tensor(name: $0.name, shape: $0.shape, type: .f32) }
        let recipe = try QuantizationRecipe(fileType: fileType, options: .init(hasImportanceMatrix: importance != nil),
                                            model: try ModelHyperparameters(metadata: metadata), tensors: tensors)
        for index in jobs.indices {
            jobs[index].outputType = recipe.type(forTensorAt: index)
            jobs[index].importance = try MergePlan.importanceWeights(importance, recipe: recipe, index: index)
        }
        let promotions = recipe.promotions { index in
            switch choice {
            case .llama: false
            case .promoted: true
            case .auto:
                if case .merge = jobs[index].operation {
                    jobs[index].sources.contains { $0.tensor.type.bitsPerWeight <= RecipeChoice.lowBitLimit }
                } else {
                    false
                }
            }
        }
        for promotion in promotions { jobs[promotion.index].outputType = promotion.to }
        return (promotions, recipe.fallbacks)
    }

    /// For outputs in the base's types: each quantized tensor's importance matrix entry, if any. A tensor
    /// whose type cannot be written without one (IQ1_S, IQ2_XXS, IQ2_XS in ggml) and has none is an error
    /// here, before anything is written.
    static func attachImportance(_ importance: ImportanceMatrix?, to jobs: inout [TensorJob]) throws(MergeError) {
        let importance = importance.flatMap { $0.entries.isEmpty ? nil : $0 }
        for index in jobs.indices where jobs[index].outputType.blockSize > 1 {
            let job = jobs[index]
            if let importance {
                do throws(ImportanceMatrixError) {
                    jobs[index].importance = try importance.weights(for: job.name, shape: job.shape)
                } catch {
                    throw .importanceMatrix(error)
                }
            }
            if jobs[index].importance == nil && Codecs.requiresImportance(job.outputType) {
                guard let importance else {
                    throw .incompatible("tensor \(job.name) is \(job.outputType.name), which cannot be written without an importance matrix: pass --imatrix (usually the base's)")
                }
                throw .importanceMatrix(.missingEntry(path: importance.path, tensor: job.name, type: job.outputType))
            }
        }
    }

    /// Types this version cannot encode (IQ and ternary types, …) become the closest it can: Q8_0 when
    /// rows allow, else F16.
    static func fallBackToEncodableTypes(_ jobs: inout [TensorJob]) throws {
        for index in jobs.indices where !Codecs.canQuantize(jobs[index].outputType) {
            jobs[index].outputType = jobs[index].shape[0] % 32 == 0 ? .q8_0 : .f16
        }
    }

    /// The base's metadata with provenance: `general.name` (`name:`/`--name`, else derived from the
    /// inputs), `general.size_label` recomputed from the output's tensors, `general.base_model.*` as
    /// llama.cpp's converter writes them, the config (without local directories) under
    /// `ggufmerge.config`, the layer count, the file type.
    static func outputMetadata(config: MergeConfig, options: MergeOptions, reference: InputModel, inputs: [InputModel],
                               inputIndex: [ModelReference: Int], layers: Int, jobs: [TensorJob],
                               outputType: OutputType) throws -> Metadata {
        var metadata = reference.model.metadata
        let architecture = metadata["general.architecture"]?.string ?? ""
        let inputNames = inputs.map { input in
            input.model.metadata["general.name"]?.string ?? URL(fileURLWithPath: input.model.path).deletingPathExtension().lastPathComponent
        }
        let baseIndex = config.baseModel.flatMap { inputIndex[$0] }
        metadata.set("general.name", .string(options.outputName ?? config.name
            ?? Provenance.derivedName(inputNames: inputNames, baseIndex: baseIndex, method: config.mergeMethod)))
        metadata.set("general.size_label", .string(Provenance.sizeLabel(jobs.map { ($0.name, $0.shape) })))
        if let count = metadata["\(architecture).block_count"], count.int != layers {
            metadata.set("\(architecture).block_count", .uint32(UInt32(layers)))
        }
        if case let .model(source) = config.tokenizerSource {
            let donor = inputs[inputIndex[source]!].model.metadata
            for key in metadata.keys where key.hasPrefix("tokenizer.") { metadata.remove(key) }
            for (key, value) in donor where key.hasPrefix("tokenizer.") { metadata.set(key, value) }
        }
        if let setting = config.chatTemplate {
            let templates = inputs.map { $0.model.metadata["tokenizer.chat_template"]?.string }
            // Names and templates were checked when the config was read; `auto` cannot fail.
            if let template = try? ChatTemplate.resolve(setting, inputTemplates: templates) {
                metadata.set("tokenizer.chat_template", .string(template))
            }
        }

        for key in metadata.keys where key.hasPrefix("general.base_model.") { metadata.remove(key) }
        metadata.set("general.base_model.count", .uint32(UInt32(inputs.count)))
        for (index, input) in inputs.enumerated() {
            let parent = input.model.metadata
            metadata.set("general.base_model.\(index).name", .string(inputNames[index]))
            for field in ["organization", "version", "repo_url"] {
                if let value = parent["general.\(field)"] { metadata.set("general.base_model.\(index).\(field)", value) }
            }
        }
        if let text = options.configText {
            metadata.set("ggufmerge.config", .string(Provenance.configWithoutLocalPaths(text, references: config.referencedModels)))
        }

        let types = Set(jobs.map(\.outputType))
        let fileType: FileType? = switch outputType {
        case let .fileType(fileType): fileType
        case .matchBase: nil  // the base's own general.file_type still holds
        }
        if let fileType {
            metadata.set(QuantizedMetadata.fileTypeKey, .uint32(fileType.rawValue))
        }
        if types.contains(where: { ![.f32, .f16, .bf16].contains($0) }) {
            metadata.set(QuantizedMetadata.quantizationVersionKey, .uint32(QuantizedMetadata.quantizationVersion))
        }
        return metadata
    }
}
