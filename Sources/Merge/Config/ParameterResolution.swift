/// A merge method's parameters resolved for one output tensor: what `MergeUnit` carries.
public struct ResolvedParameters: Sendable, Equatable {
    /// Global (per-merge) parameters.
    public var global: Parameters
    /// Per-model parameters, parallel to `models`.
    public var perModel: [Parameters]
    /// The inputs of the tensor, in mergekit's order (the slice's sources; for `models:`, the models as
    /// listed, then the base model when it was not listed).
    public var models: [ModelReference]
    /// The base model's index in `models` (nil without a base, or when the method ignores it).
    public var baseIndex: Int?
}

extension MergeConfig {
    /// The method named by `merge_method`, from `MergeMethods`.
    public func method() throws(ConfigError) -> any MergeMethod {
        guard let method = MergeMethods.named(mergeMethod) else {
            let known = MergeMethods.all.map(\.name)
            throw .invalid(file: file, at: mergeMethodMark, message: "unknown merge_method '\(mergeMethod)'"
                + (known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))"))
        }
        return method
    }

    /// Checks the configuration against `method` before any tensor is planned:
    /// - every parameter name is one the method declares (mergekit silently ignores unknown names, so
    ///   a typo such as `desnity` would merge with the default: ggufmerge reports it instead);
    /// - a global parameter (`t`, `normalize`, …) is not set on a model or source, where mergekit
    ///   never reads it (slice and top-level `parameters:` hold global parameters);
    /// - every value written has the parameter's kind (number or flag), whichever tensor it ends up on,
    ///   and numbers are finite and within what the method defines (`ParameterRange`);
    /// - a method that needs a base model has one, and in `slices:` the base is one of each slice's
    ///   sources (mergekit's "Base input is not present in merge inputs").
    public func validate(for method: any MergeMethod) throws(ConfigError) {
        let specs = Dictionary(method.parameters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func check(_ settings: ParameterSettings, owner: String?, perModelOnly: Bool) throws(ConfigError) {
            for entry in settings.entries {
                let describe = "parameter '\(entry.name)'" + (owner.map { " of \($0)" } ?? "")
                guard let spec = specs[entry.name] else {
                    let known = method.parameters.map(\.name)
                    throw .invalid(file: file, at: entry.keyMark, message:
                        "\(describe): merge method '\(method.name)' has no parameter '\(entry.name)'"
                        + (known.isEmpty ? " (it takes none)" : " (it takes: \(known.joined(separator: ", ")))"))
                }
                if perModelOnly && spec.scope == .global {
                    throw .invalid(file: file, at: entry.keyMark, message:
                        "\(describe): '\(entry.name)' is a global parameter of merge method '\(method.name)'; set it under the top-level (or a slice's) 'parameters:'")
                }
                for leaf in entry.setting.leaves {
                    let value = try ParameterSetting.value(leaf, kind: spec.kind, owner: describe, file: file)
                    // Gradients interpolate between their values, so checking each value bounds them all.
                    if case let .number(number) = value {
                        try ParameterRange.check(number, name: entry.name, owner: describe, file: file, at: leaf.mark)
                    }
                }
            }
        }
        try check(parameters, owner: nil, perModelOnly: false)
        switch inputs {
        case let .models(models):
            for model in models { try check(model.parameters, owner: "model '\(model.model.text)'", perModelOnly: true) }
            if method.basePolicy == .required && baseModel == nil {
                throw .invalid(file: file, at: mergeMethodMark, message: "merge method '\(method.name)' requires a base_model")
            }
        case let .slices(slices):
            for (index, slice) in slices.enumerated() {
                try check(slice.parameters, owner: "slices[\(index)]", perModelOnly: false)
                for source in slice.sources {
                    try check(source.parameters, owner: "model '\(source.model.text)'", perModelOnly: true)
                }
                guard method.basePolicy != .ignored else { continue }
                let base = slice.baseModel ?? baseModel
                if let base, !slice.sources.contains(where: { $0.model == base }) {
                    throw .invalid(file: file, at: slice.mark, message:
                        "slices[\(index)]: the base model '\(base.text)' must be one of the slice's sources")
                }
                if base == nil && method.basePolicy == .required {
                    throw .invalid(file: file, at: slice.mark, message: "slices[\(index)]: merge method '\(method.name)' requires a base_model")
                }
            }
        }
    }

    /// Resolves `method`'s parameters for the tensor at `site`, as mergekit's `resolve_parameters` does.
    ///
    /// Precedence, highest first: for a per-model parameter, the model's (or source's) `parameters:`,
    /// then its slice's, then the top-level `parameters:`; for a global parameter, the slice's, then
    /// the top-level ones. At each level a setting whose conditions all fail to match (or an empty
    /// gradient) defers to the next level; when no level sets a value, the method's default applies,
    /// and a parameter without a default is an error. Global parameters are resolved with the output
    /// tensor's name, per-model ones with the tensor's name in that model (see `TensorSite`).
    ///
    /// The base model of a method that uses one (`basePolicy` not `.ignored`) gets only defaults for
    /// per-model parameters: mergekit's `weight`/`density`/… are per non-base model and are never read
    /// for the base.
    public func resolveParameters(for method: any MergeMethod, at site: TensorSite,
                                  layout: MergeLayout) throws(ConfigError) -> ResolvedParameters {
        let slice = layout.slices[site.slice]
        let models = slice.sources.map(\.model)
        let base = layout.baseModels[site.slice]
        let baseIndex = method.basePolicy == .ignored ? nil : base.flatMap { base in models.firstIndex(of: base) }

        var global = Parameters()
        for spec in method.parameters where spec.scope == .global {
            let levels: [(ParameterSettings, String?)] = [(slice.parameters, "slices[\(site.slice)]"), (parameters, nil)]
            global[spec.name] = try resolve(spec, levels: levels, tensor: site.name, t: site.t,
                                            method: method, model: nil)
        }
        var perModel: [Parameters] = []
        for (index, source) in slice.sources.enumerated() {
            var values = Parameters()
            for spec in method.parameters where spec.scope == .perModel {
                if index == baseIndex {
                    if let value = spec.defaultValue { values[spec.name] = value }
                    continue
                }
                let levels: [(ParameterSettings, String?)] = [
                    (source.parameters, "model '\(source.model.text)'"),
                    (slice.parameters, "slices[\(site.slice)]"),
                    (parameters, nil),
                ]
                let name = index < site.inputNames.count ? site.inputNames[index] : site.name
                values[spec.name] = try resolve(spec, levels: levels, tensor: name, t: site.t,
                                                method: method, model: source.model)
            }
            perModel.append(values)
        }
        return ResolvedParameters(global: global, perModel: perModel, models: models, baseIndex: baseIndex)
    }

    /// Convenience for `models:` configurations whose models all have `layerCount` layers (and for
    /// `slices:` whose ranges fit in that many): lays the merge out and resolves the tensor `tensorName`
    /// (a GGUF output name, `blk.N.…` or not).
    public func resolveParameters(for method: any MergeMethod, tensorName: String,
                                  layerCount: Int) throws(ConfigError) -> ResolvedParameters {
        let layout = try MergeLayout(config: self) { _ throws(ConfigError) in layerCount }
        guard let site = layout.site(of: tensorName) else {
            throw .invalid(file: file, at: nil, message: "tensor \(tensorName) is past the output's \(layout.layers.count) layers")
        }
        return try resolveParameters(for: method, at: site, layout: layout)
    }

    private func resolve(_ spec: ParameterSpec, levels: [(ParameterSettings, String?)], tensor: String, t: Double,
                         method: any MergeMethod, model: ModelReference?) throws(ConfigError) -> ParameterValue? {
        for (settings, owner) in levels {
            guard let setting = settings[spec.name] else { continue }
            let describe = "parameter '\(spec.name)'" + (owner.map { " of \($0)" } ?? "")
            if let value = try setting.evaluate(tensor: tensor, t: t, kind: spec.kind, owner: describe, file: file) {
                return value
            }
        }
        if let value = spec.defaultValue { return value }
        let whose = model.map { " of model '\($0.text)'" } ?? ""
        throw .invalid(file: file, at: nil, message:
            "merge method '\(method.name)' requires parameter '\(spec.name)'\(whose), which is not set for tensor \(tensor)")
    }
}
