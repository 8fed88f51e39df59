import Foundation

/// What `ggufmerge check` found: compatibility, and relatedness from sampled rows of every 2-D
/// weight (``RowSample``), per layer and overall.
public struct CheckReport: Sendable {
    /// The models' paths, the base (when given) first.
    public var models: [String]
    public var baseIndex: Int?
    public var findings: [CompatibilityFinding]
    /// One comparison a 2-D weight every model has with the same shape, in the reference's order.
    public var tensors: [TensorComparison]

    /// How two models relate, from their weights.
    public enum Relation: String, Sendable {
        /// Every sampled weight equal.
        case identical = "identical"
        /// They differ by no more than both files' rounding noise: one is (nearly) the other, stored
        /// in another type.
        case identicalWithinNoise = "identical within quantization noise"
        /// Trained from one initialization (fine-tunes of one base, or one a fine-tune of the other):
        /// merging them is meaningful.
        case sameInitialization = "same initialization"
        /// Independently initialized (or trained beyond recognition): averaging them gives noise.
        case unrelated = "unrelated"
    }

    /// Cosines at or above this mean the same initialization. Measured (README, "ggufmerge check"):
    /// fine-tunes of one base ≥ 0.9 in every layer, independently initialized models of one shape
    /// |cos| ≤ 0.02; halfway is robust to both heavier fine-tuning and sampling error (±0.003).
    public static let sameInitializationCosine = 0.5

    /// A difference at most this many times both files' estimated rounding noise means identical
    /// within noise. A model against its own quantization measures ≈ 1 (the estimate's error is
    /// within 2×, `RoundingNoiseTests`); real fine-tunes measure ≥ 10 at Q4_K_M.
    public static let identicalNoiseRatio = 3.0

    /// Task-vector methods inherit the inputs' rounding noise: below this noise ratio more than ~1 %
    /// of a task vector's energy is noise (issue 18).
    public static let taskVectorNoiseWarning = 100.0

    /// The sums over all 2-D weights.
    public var total: TensorComparison {
        tensors.dropFirst().reduce(into: tensors.first ?? TensorComparison(name: "all", models: models.count)) { $0.add($1) }
    }

    /// The sums per layer (`blk.N`), then the tensors outside the layers (`other`), when present.
    public var layers: [(name: String, sums: TensorComparison)] {
        var byLayer: [Int: TensorComparison] = [:]
        var other: TensorComparison?
        for tensor in tensors {
            if let layer = tensor.layer {
                if byLayer[layer] == nil { byLayer[layer] = tensor } else { byLayer[layer]!.add(tensor) }
            } else if other == nil { other = tensor } else { other!.add(tensor) }
        }
        return byLayer.keys.sorted().map { ("blk.\($0)", byLayer[$0]!) } + (other.map { [("other", $0)] } ?? [])
    }

    /// Cosine similarity of models `i` and `j` over `sums`.
    public static func cosine(_ sums: TensorComparison, _ i: Int, _ j: Int) -> Double {
        let norms = (sums.energy[i] * sums.energy[j]).squareRoot()
        return norms > 0 ? sums.dot[i][j] / norms : (sums.energy[i] == sums.energy[j] ? 1 : 0)
    }

    /// ‖xᵢ − xⱼ‖² over both files' estimated rounding noise energy; nil when both are float files
    /// (no rounding noise to compare with).
    public static func noiseRatio(_ sums: TensorComparison, _ i: Int, _ j: Int) -> Double? {
        let noise = sums.noise[i] + sums.noise[j]
        return noise > 0 ? sums.difference[i][j] / noise : nil
    }

    /// How models `i` and `j` relate overall.
    public func relation(_ i: Int, _ j: Int) -> Relation {
        let sums = total
        if sums.difference[i][j] == 0 { return .identical }
        if let ratio = Self.noiseRatio(sums, i, j), ratio <= Self.identicalNoiseRatio { return .identicalWithinNoise }
        return Self.cosine(sums, i, j) >= Self.sameInitializationCosine ? .sameInitialization : .unrelated
    }

    /// Every pair of models, `i < j`.
    public var pairs: [(i: Int, j: Int)] {
        models.indices.flatMap { i in (i + 1 ..< models.count).map { (i, $0) } }
    }

    /// The models other than the base.
    public var nonBase: [Int] { models.indices.filter { $0 != baseIndex } }

    /// ‖x − base‖ / ‖base‖ over all 2-D weights.
    public func relativeTaskVectorNorm(_ model: Int) -> Double? {
        guard let base = baseIndex else { return nil }
        let sums = total
        return sums.energy[base] > 0 ? (sums.difference[model][base] / sums.energy[base]).squareRoot() : nil
    }

    /// The energy of `model`'s task vector over both files' estimated rounding noise, energy-weighted
    /// over all 2-D weights (issue 18); nil without a base or when both are float files.
    public func taskVectorNoiseRatio(_ model: Int) -> Double? {
        guard let base = baseIndex else { return nil }
        return Self.noiseRatio(total, model, base)
    }

    /// The `count` tensors with the lowest task-vector noise ratio of `model`.
    public func noisiestTensors(_ model: Int, count: Int = 3) -> [(name: String, ratio: Double)] {
        guard let base = baseIndex else { return [] }
        let ratios = tensors.compactMap { t in Self.noiseRatio(t, model, base).map { (t.name, $0) } }
        return Array(ratios.sorted { $0.1 < $1.1 }.prefix(count))
    }

    /// Cosine of the task vectors of models `i` and `j` (TIES/DARE's agreement), over all 2-D weights.
    public func taskVectorCosine(_ i: Int, _ j: Int) -> Double? {
        guard baseIndex != nil else { return nil }
        let sums = total
        let norms = (sums.taskDot[i][i] * sums.taskDot[j][j]).squareRoot()
        return norms > 0 ? sums.taskDot[i][j] / norms : nil
    }

    /// Of the weights both models changed, the fraction changed in the same direction.
    public func signAgreement(_ i: Int, _ j: Int) -> Double? {
        guard baseIndex != nil else { return nil }
        let sums = total
        return sums.bothChanged[i][j] > 0 ? sums.signAgreements[i][j] / sums.bothChanged[i][j] : nil
    }

    /// Whether a merge of these models fails or mixes tensors that do not correspond.
    public var isCompatible: Bool { !findings.contains(where: \.blocksMerge) }

    /// One line a warning for `merge`: incompatibilities aside (the plan rejects those), models that
    /// look unrelated to the base (or the first model), and, for a task-vector method, models whose
    /// task vectors are within ~100× their rounding noise.
    public func mergeWarnings(taskVectorMethod: Bool) -> [String] {
        var warnings: [String] = []
        let reference = baseIndex ?? 0
        for model in models.indices where model != reference && !tensors.isEmpty {
            if relation(model, reference) == .unrelated {
                let cosine = String(format: "%.3f", Self.cosine(total, model, reference))
                warnings.append("\(models[model]) looks unrelated to \(models[reference]) (weight cosine \(cosine)): models from different initializations do not merge meaningfully; run 'ggufmerge check' for details")
            }
        }
        if taskVectorMethod {
            for model in nonBase {
                guard let ratio = taskVectorNoiseRatio(model), ratio < Self.taskVectorNoiseWarning else { continue }
                let figures = String(format: "%.1f× the energy of the two files' rounding noise (noise is %.1f %% of it)", ratio, min(100, 100 / ratio))
                warnings.append("\(models[model]): its task vector carries only \(figures); a task-vector merge keeps that noise in the result. Merge the Q8_0/F16 files if you have them")
            }
        }
        return warnings
    }
}
