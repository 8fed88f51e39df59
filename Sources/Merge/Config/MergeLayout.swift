/// The output model's layers as mergekit's planner lays them out (`MergePlanner.normalize_config`,
/// `plan_module`, `plan_slice`): which slice and which source layers make each output layer, and the
/// gradient position `t` every tensor of that layer resolves its parameters at.
///
/// - `models:` become one slice whose sources are the models, each over all its layers, with the base
///   model appended (without parameters) when it is not listed.
/// - Output layers are numbered consecutively across slices. Within a slice of `n` layers, layer `i`
///   has `t = i / (n − 1)`, and `t = 1` when `n = 1`.
/// - Tensors outside the layers have `t = 0`: the embeddings (`token_embd…`) take the first slice's
///   sources and parameters, everything else (`output_norm`, `output`, …) the last slice's.
public struct MergeLayout: Sendable, Equatable {
    /// One output layer.
    public struct Layer: Sendable, Equatable {
        /// The output layer index (`blk.<index>.` in the output).
        public var index: Int
        /// Index into `slices`.
        public var slice: Int
        /// The gradient position of the layer's tensors.
        public var t: Double
        /// For each source of the slice, the layer it is read from.
        public var sourceLayers: [Int]
    }

    /// The slices, `models:` normalized into one.
    public var slices: [MergeConfig.OutputSlice]
    public var layers: [Layer]
    /// Each slice's base model (its own `base_model:` or the top-level one).
    public var baseModels: [ModelReference?]

    /// Lays out `config`. `layerCount` gives a model's number of layers (`<arch>.block_count`).
    ///
    /// Throws when `models:` differ in layer count, or a `layer_range` goes past a model's last layer.
    public init(config: MergeConfig,
                layerCount: (ModelReference) throws(ConfigError) -> Int) throws(ConfigError) {
        switch config.inputs {
        case let .models(models):
            var sources: [MergeConfig.SliceSource] = []
            for model in models {
                sources.append(.init(model: model.model, layerRange: 0 ..< (try layerCount(model.model)),
                                     parameters: model.parameters, mark: model.mark))
            }
            if let base = config.baseModel, !models.contains(where: { $0.model == base }) {
                sources.append(.init(model: base, layerRange: 0 ..< (try layerCount(base)),
                                     parameters: ParameterSettings(), mark: config.mergeMethodMark))
            }
            if Set(sources.map(\.layerRange.count)).count > 1 {
                throw .invalid(file: config.file, at: models.first?.mark, message:
                    "all models must have the same number of layers (\(sources.map { "\($0.model.text): \($0.layerRange.count)" }.joined(separator: ", "))); use 'slices' to merge layer ranges")
            }
            slices = [.init(sources: sources, baseModel: nil, parameters: ParameterSettings(), mark: models.first?.mark ?? config.mergeMethodMark)]
        case let .slices(configured):
            for (sliceIndex, slice) in configured.enumerated() {
                for source in slice.sources {
                    let count = try layerCount(source.model)
                    if source.layerRange.upperBound > count {
                        throw .invalid(file: config.file, at: source.mark, message:
                            "slices[\(sliceIndex)]: layer_range [\(source.layerRange.lowerBound), \(source.layerRange.upperBound)] of model '\(source.model.text)' goes past its \(count) layers")
                    }
                }
            }
            slices = configured
        }
        baseModels = slices.map { $0.baseModel ?? config.baseModel }
        layers = []
        for (sliceIndex, slice) in slices.enumerated() {
            let count = slice.sources.first?.layerRange.count ?? 0
            for position in 0 ..< count {
                let t = count > 1 ? Double(position) / Double(count - 1) : 1
                layers.append(Layer(index: layers.count, slice: sliceIndex, t: t,
                                    sourceLayers: slice.sources.map { $0.layerRange.lowerBound + position }))
            }
        }
    }

    /// Where the output tensor `name` sits; nil for a `blk.N.` name past the output's last layer.
    public func site(of name: String) -> TensorSite? {
        if let index = NameMap.layerIndex(of: name) {
            guard index < layers.count else { return nil }
            let layer = layers[index]
            let suffix = name.dropFirst("blk.\(index).".count)
            return TensorSite(name: name, slice: layer.slice, t: layer.t,
                              inputNames: layer.sourceLayers.map { "blk.\($0).\(suffix)" })
        }
        let slice = MergeLayout.isPreLayer(name) ? 0 : slices.count - 1
        return TensorSite(name: name, slice: slice, t: 0,
                          inputNames: Array(repeating: name, count: slices[slice].sources.count))
    }

    /// Tensors before the layers in mergekit's architecture definitions (its `pre_weights`).
    static func isPreLayer(_ name: String) -> Bool {
        name.hasPrefix("token_embd") || name.hasPrefix("position_embd") || name.hasPrefix("token_types")
    }
}

/// One output tensor's place in the merge: its name, the slice whose sources and parameters make it, the
/// gradient position, and its name in each of those sources (a different `blk.N.` when a `layer_range`
/// does not start at 0).
public struct TensorSite: Sendable, Equatable {
    public var name: String
    public var slice: Int
    public var t: Double
    public var inputNames: [String]

    public init(name: String, slice: Int, t: Double, inputNames: [String]) {
        self.name = name
        self.slice = slice
        self.t = t
        self.inputNames = inputNames
    }
}
