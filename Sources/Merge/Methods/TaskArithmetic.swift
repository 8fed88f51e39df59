/// mergekit's `GeneralizedTaskArithmeticMerge`: the task-vector family (`task_arithmetic`, `ties`,
/// `dare_ties`, `dare_linear`, `breadcrumbs`, `breadcrumbs_ties`, `della`, `della_linear`), one
/// configurable struct like mergekit's, with the registered instances below.
///
/// For one tensor, with base `b` and the other inputs `x_i` in input order:
/// 1. task vectors `d_i = x_i − b` (float32);
/// 2. optional sparsification of each `d_i` (``Sparsify``), with the per-model `density` (and
///    `gamma` / `epsilon`), rescaled to keep its L1 norm when `rescale`;
/// 3. `d_i ·= weight_i` (the weight rounded to float32 first);
/// 4. with a consensus method: elect each element's sign (``Consensus``), then
///    `mixed = Σ agreeing d_i`, `divisor = Σ agreeing weight_i` (0 → 1);
///    without: `mixed = Σ d_i`, `divisor = Σ weight_i` (|divisor| < 1e-8 → 1);
/// 5. `mixed /= divisor` if `normalize`; `mixed *= lambda` if `lambda != 1`;
/// 6. result `b + mixed`.
/// Float32 operations are done in mergekit's order, so deterministic methods agree with mergekit
/// to float rounding (only the L1 sums differ in summation order).
///
/// Parameters, as mergekit declares them: global `int8_mask` (false), `normalize` and `rescale`
/// (per-method defaults), `lambda` (1); per model `weight` (required), `density` (1), `gamma`
/// (0.01, breadcrumbs only), `epsilon` (0.15, della only).
///
/// `int8_mask` only changes the dtype of mergekit's intermediate sign mask (int8 instead of the
/// tensor dtype); the mask's values, hence the result, are the same, so it is accepted and ignored.
///
/// Missing tensors: mergekit merges only the inputs that have the tensor; without the base it
/// fails ("requires a base input"), with only the base it returns the base. The plan passes only
/// present inputs, so this method sees the same cases.
///
/// Randomness (`random`, `della_magprune`): input `i` draws from `RandomStream(seed: input.seed,
/// stream: i)` at each element's index, so results depend on the seed only. mergekit uses torch's
/// generator: the values differ, the distribution is the same.
public struct GeneralizedTaskArithmetic: MergeMethod {
    public var name: String
    public var consensus: ConsensusMethod?
    public var sparsification: SparsificationMethod?
    public var defaultNormalize: Bool
    public var defaultRescale: Bool

    public init(name: String, consensus: ConsensusMethod?, sparsification: SparsificationMethod?,
                defaultNormalize: Bool, defaultRescale: Bool) {
        self.name = name
        self.consensus = consensus
        self.sparsification = sparsification
        self.defaultNormalize = defaultNormalize
        self.defaultRescale = defaultRescale
    }

    public var basePolicy: BaseModelPolicy { .required }

    static let int8Mask = ParameterSpec("int8_mask", .bool, .global, default: .bool(false))
    static let lambda = ParameterSpec("lambda", .number, .global, default: .number(1))
    static let weight = ParameterSpec("weight", .number, .perModel, default: nil)
    static let density = ParameterSpec("density", .number, .perModel, default: .number(1))
    static let gamma = ParameterSpec("gamma", .number, .perModel, default: .number(0.01))
    static let epsilon = ParameterSpec("epsilon", .number, .perModel, default: .number(0.15))
    var normalizeSpec: ParameterSpec { ParameterSpec("normalize", .bool, .global, default: .bool(defaultNormalize)) }
    var rescaleSpec: ParameterSpec { ParameterSpec("rescale", .bool, .global, default: .bool(defaultRescale)) }

    public var parameters: [ParameterSpec] {
        var specs = [Self.int8Mask, normalizeSpec, rescaleSpec, Self.lambda, Self.weight, Self.density]
        if sparsification == .magnitudeOutliers { specs.append(Self.gamma) }
        if sparsification == .dellaMagprune { specs.append(Self.epsilon) }
        return specs
    }

    /// With every task vector weighted 0 the result is the base model.
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? {
        guard let baseIndex else { return nil }
        let others = modelParameters.indices.filter { $0 != baseIndex }
        return others.allSatisfy { Self.weight.number(in: modelParameters[$0]) == 0 } ? baseIndex : nil
    }

    /// Elements combined per block: the block's slices of every task vector, the output and two
    /// scratch rows stay in L1 cache.
    static let blockSize = 2048

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        let (baseIndex, others) = try TaskVectors.validate(unit, method: name)
        var weights: [Float] = []
        var sparsifiers: [TaskVectorSparsifier] = []
        let rescale = try unit.bool(name, rescaleSpec)
        for index in others {
            let weight = try unit.number(name, Self.weight, input: index)
            guard weight.isFinite else { throw unit.invalid(name, "input \(index): weight is not finite") }
            weights.append(Float(weight))
            guard let sparsification else { continue }
            let options = SparsifyOptions(
                density: try unit.number(name, Self.density, input: index),
                gamma: sparsification == .magnitudeOutliers ? try unit.number(name, Self.gamma, input: index) : 0,
                epsilon: sparsification == .dellaMagprune ? try unit.number(name, Self.epsilon, input: index) : 0,
                rescale: rescale)
            do {
                sparsifiers.append(try TaskVectorSparsifier(sparsification, options: options, rowLength: unit.rowLength,
                                                            count: unit.elementCount,
                                                            stream: RandomStream(seed: unit.seed, stream: index)))
            } catch {
                throw unit.invalid(name, "input \(index): \(error)")
            }
        }
        let lambda = try unit.number(name, Self.lambda)
        return Merge(base: baseIndex, others: others, weights: weights, sparsifiers: sparsifiers, consensus: consensus,
                     normalize: try unit.bool(name, normalizeSpec), lambda: lambda != 1 ? Float(lambda) : nil)
    }

    /// The statistics of each task vector's sparsification (none without one), then per piece: the
    /// task vectors, masked, weighted, elected and summed.
    struct Merge: UnitMerge {
        var base: Int
        var others: [Int]
        var weights: [Float]
        /// Parallel to `others`; empty without sparsification.
        var sparsifiers: [TaskVectorSparsifier]
        var consensus: ConsensusMethod?
        var normalize: Bool
        var lambda: Float?

        var needsPass: Bool { sparsifiers.contains { $0.needsPass } }

        func statistics(_ piece: RowPiece) -> [TaskVectorSparsifier.Partial?] {
            let base = piece.inputs[self.base]
            return zip(others, sparsifiers).map { index, sparsifier in
                guard sparsifier.needsPass else { return nil }
                let delta = piece.inputs[index]
                delta.subtract(base)
                return sparsifier.statistics(delta, piece: piece)
            }
        }

        mutating func accumulate(_ partials: [TaskVectorSparsifier.Partial?]) {
            for (k, partial) in partials.enumerated() {
                if let partial { sparsifiers[k].accumulate(partial) }
            }
        }

        mutating func finishPass() {
            for k in sparsifiers.indices where sparsifiers[k].needsPass { sparsifiers[k].finishPass() }
        }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            let base = piece.inputs[self.base]
            let n = output.count
            if others.isEmpty {
                _ = output.update(fromContentsOf: base)
                return
            }
            var deltas: [WeightedDelta] = []
            for (k, index) in others.enumerated() {
                let delta = piece.inputs[index]
                delta.subtract(base)
                var scale: Float = 1
                if !sparsifiers.isEmpty {
                    sparsifiers[k].mask(delta, piece: piece)
                    scale = sparsifiers[k].scale
                }
                deltas.append(WeightedDelta(values: delta.baseAddress!, scale: scale, weight: weights[k]))
            }
            let b = base.baseAddress!, out = output.baseAddress!
            if let consensus {
                let block = GeneralizedTaskArithmetic.blockSize
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { scratch in
                    let majority = scratch.baseAddress!, divisor = scratch.baseAddress! + block
                    for start in stride(from: 0, to: n, by: block) {
                        let count = min(block, n - start)
                        let mixed = out + start
                        Consensus.elect(consensus, deltas, start: start, count: count, into: majority)
                        Consensus.sumAgreeing(deltas, start: start, count: count, majority: majority,
                                              mixed: mixed, divisor: divisor)
                        if normalize {
                            for j in 0 ..< count {
                                let d = divisor[j]
                                mixed[j] = mixed[j] / (d == 0 ? 1 : d)
                            }
                        }
                        GeneralizedTaskArithmetic.finish(mixed, base: b + start, count: count, lambda: lambda)
                    }
                }
            } else {
                // `weights.sum(dim=0)`: one float32 sum in input order.
                var divisor: Float = 0
                for weight in weights { divisor += weight }
                if abs(divisor) < Float(1e-8) { divisor = 1 }
                for j in 0 ..< n { out[j] = 0 }
                for delta in deltas {
                    for j in 0 ..< n { out[j] += delta.contribution(j) }
                }
                if normalize {
                    for j in 0 ..< n { out[j] = out[j] / divisor }
                }
                GeneralizedTaskArithmetic.finish(out, base: b, count: n, lambda: lambda)
            }
        }
    }
}

extension GeneralizedTaskArithmetic {
    /// `mixed *= lambda` (when given), then `mixed = base + mixed`, as separate float32 steps.
    @inline(__always)
    static func finish(_ mixed: UnsafeMutablePointer<Float>, base: UnsafeMutablePointer<Float>, count: Int,
                       lambda: Float?) {
        if let lambda {
            for j in 0 ..< count { mixed[j] = mixed[j] * lambda }
        }
        for j in 0 ..< count { mixed[j] = base[j] + mixed[j] }
    }

    /// `task_arithmetic`: the weighted sum of task vectors (Ilharco et al., arXiv:2212.04089).
    public static let taskArithmetic = GeneralizedTaskArithmetic(
        name: "task_arithmetic", consensus: nil, sparsification: nil, defaultNormalize: false, defaultRescale: false)
    /// `ties`: magnitude pruning and sign election (Yadav et al., arXiv:2306.01708).
    public static let ties = GeneralizedTaskArithmetic(
        name: "ties", consensus: .sum, sparsification: .magnitude, defaultNormalize: true, defaultRescale: false)
    /// `dare_ties`: random pruning with rescale, then sign election (Yu et al., arXiv:2311.03099).
    public static let dareTies = GeneralizedTaskArithmetic(
        name: "dare_ties", consensus: .sum, sparsification: .random, defaultNormalize: false, defaultRescale: true)
    /// `dare_linear`: random pruning with rescale, summed.
    public static let dareLinear = GeneralizedTaskArithmetic(
        name: "dare_linear", consensus: nil, sparsification: .random, defaultNormalize: false, defaultRescale: true)
    /// `breadcrumbs`: drop the largest and smallest magnitudes, summed (Davari & Belilovsky,
    /// arXiv:2312.06795).
    public static let breadcrumbs = GeneralizedTaskArithmetic(
        name: "breadcrumbs", consensus: nil, sparsification: .magnitudeOutliers, defaultNormalize: false,
        defaultRescale: false)
    /// `breadcrumbs_ties`: breadcrumbs pruning with sign election.
    public static let breadcrumbsTies = GeneralizedTaskArithmetic(
        name: "breadcrumbs_ties", consensus: .sum, sparsification: .magnitudeOutliers, defaultNormalize: false,
        defaultRescale: false)
    /// `della`: magnitude-ranked random pruning with rescale, sign election (Deep et al., arXiv:2406.11617).
    public static let della = GeneralizedTaskArithmetic(
        name: "della", consensus: .sum, sparsification: .dellaMagprune, defaultNormalize: true, defaultRescale: true)
    /// `della_linear`: DELLA pruning, summed.
    public static let dellaLinear = GeneralizedTaskArithmetic(
        name: "della_linear", consensus: nil, sparsification: .dellaMagprune, defaultNormalize: false,
        defaultRescale: true)

}

/// The input check shared by the task-vector methods.
enum TaskVectors {
    /// Checks the unit's inputs and returns the base index and the other inputs' indices.
    static func validate(_ unit: MergeUnit, method: String) throws(MergeError) -> (base: Int, others: [Int]) {
        try unit.checkInputs(method)
        let baseIndex = try unit.requireBase(method)
        return (baseIndex, unit.nonBaseIndices)
    }
}
