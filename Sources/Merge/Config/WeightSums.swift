/// Weights a method divides by their sum must not sum to zero: a known-in-advance failure, refused
/// at plan time at the `file:line:column` of the first `weight` the config sets.
extension MergeConfig {
    /// Checks the resolved weights of one tensor: `linear` with `normalize` and `multislerp` with
    /// `normalize_weights` divide by Σ weight (summed in float, as they do); `nuslerp` takes
    /// `t = w₂ / (w₁ + w₂)`, which mergekit silently replaces by 0.5 when |w₁ + w₂| < 1e-6.
    func checkWeightSum(_ resolved: ResolvedParameters, method: any MergeMethod, tensor: String) throws(ConfigError) {
        let weights = resolved.perModel.indices.filter { $0 != resolved.baseIndex }.compactMap { resolved.perModel[$0]["weight"]?.number }
        let problem: String?
        switch method.name {
        case "linear" where resolved.global["normalize"]?.bool == true,
             "multislerp" where resolved.global["normalize_weights"]?.bool == true:
            let sum = weights.reduce(Float(0)) { $0 + Float($1) }
            problem = sum == 0 ? "weights sum to 0, which normalizing divides by (set `\(method.name == "linear" ? "normalize" : "normalize_weights"): false`)" : nil
        case "nuslerp":
            let sum = weights.reduce(0, +)
            problem = abs(sum) < 1e-6 ? "weights sum to \(sum.formatted): t = w₂ / (w₁ + w₂) is undefined" : nil
        default:
            problem = nil
        }
        if let problem {
            throw .invalid(file: file, at: firstMark(of: "weight"), message: "\(method.name): tensor \(tensor): \(problem)")
        }
    }

    /// Where the config first sets parameter `name` (models, slice sources, slices, then the top level).
    func firstMark(of name: String) -> Mark? {
        var settings: [ParameterSettings] = []
        switch inputs {
        case let .models(models): settings = models.map(\.parameters)
        case let .slices(slices): settings = slices.flatMap { $0.sources.map(\.parameters) + [$0.parameters] }
        }
        for setting in settings + [parameters] {
            if let entry = setting.entries.first(where: { $0.name == name }) { return entry.setting.mark }
        }
        return nil
    }
}
