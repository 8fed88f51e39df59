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

    /// Equal inputs give that input (zero task vectors, or a mean of equal points).
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    /// Plain task arithmetic is elementwise; sparsification and sign consensus are not.
    public var isRowLocal: Bool { sparsification == nil && consensus == nil }

    /// With every task vector weighted 0 the result is the base model.
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? {
        guard let baseIndex else { return nil }
        let weights = modelParameters.indices.filter { $0 != baseIndex }.map { modelParameters[$0].number("weight") }
        return weights.allSatisfy { $0 == 0 } ? baseIndex : nil
    }

    public var parameters: [ParameterSpec] {
        var specs = [
            ParameterSpec("int8_mask", .bool, .global, default: .bool(false)),
            ParameterSpec("normalize", .bool, .global, default: .bool(defaultNormalize)),
            ParameterSpec("rescale", .bool, .global, default: .bool(defaultRescale)),
            ParameterSpec("lambda", .number, .global, default: .number(1)),
            ParameterSpec("weight", .number, .perModel, default: nil),
            ParameterSpec("density", .number, .perModel, default: .number(1)),
        ]
        if sparsification == .magnitudeOutliers {
            specs.append(ParameterSpec("gamma", .number, .perModel, default: .number(0.01)))
        }
        if sparsification == .dellaMagprune {
            specs.append(ParameterSpec("epsilon", .number, .perModel, default: .number(0.15)))
        }
        return specs
    }

    /// Elements combined per block: the block's slices of every task vector, the output and two
    /// scratch rows stay in L1 cache.
    static let blockSize = 2048

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let (baseIndex, others) = try TaskVectors.validate(input, output: output, method: name)
        let base = input.tensors[baseIndex]
        let n = base.count
        if others.isEmpty {
            _ = output.update(fromContentsOf: base)
            return
        }
        if n == 0 { return }

        // Without sparsification or election, the task vectors are only summed: compute them on
        // the fly instead of writing them out.
        let onTheFly = sparsification == nil && consensus == nil
        var weights: [Float] = []
        for index in others {
            let weight = input.modelParameters[index].number("weight")
            guard weight.isFinite else {
                throw .invalidInputs(method: name, tensor: input.name, reason: "input \(index): weight is not finite")
            }
            weights.append(Float(weight))
        }
        var deltas: [WeightedDelta]
        if onTheFly {
            deltas = zip(others, weights).map { index, weight in
                WeightedDelta(values: input.tensors[index].baseAddress!, scale: 1, weight: weight, base: base.baseAddress!)
            }
        } else {
            // Each model's task vector is made and sparsified independently (its own random stream):
            // in parallel over the models.
            let results = UnsafeMutableBufferPointer<Result<SparsifiedDelta, MergeError>>.allocate(capacity: others.count)
            defer { results.deallocate() }
            parallelChunks(count: others.count, chunk: 1, threads: input.threads) { range in
                for position in range {
                    results.baseAddress!.advanced(by: position).initialize(to: Result { () throws(MergeError) in
                        try taskVector(input, index: others[position], base: base)
                    })
                }
            }
            deltas = []
            for position in others.indices {
                let sparse = try results[position].get()
                deltas.append(WeightedDelta(values: input.tensors[others[position]].baseAddress!, bounds: sparse.bounds,
                                            scale: sparse.scale, weight: weights[position]))
            }
        }

        let normalize = input.parameters.bool("normalize")
        let lambda = input.parameters.number("lambda")
        let scaleByLambda = lambda != 1
        let lambdaFloat = Float(lambda)
        let b = base.baseAddress!, out = output.baseAddress!

        if let consensus {
            // Blocks are independent: in parallel, each with its own scratch.
            let block = Self.blockSize
            let blocks = (n + block - 1) / block
            parallelChunks(count: blocks, chunk: max(1, blocks / (4 * input.threads)), threads: input.threads) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { scratch in
                    let majority = scratch.baseAddress!, divisor = scratch.baseAddress! + block
                    for blockIndex in range {
                        let start = blockIndex * block
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
                        Self.finish(mixed, base: b + start, count: count, lambda: scaleByLambda ? lambdaFloat : nil)
                    }
                }
            }
        } else {
            // `weights.sum(dim=0)`: one float32 sum in input order.
            var divisor: Float = 0
            for delta in deltas { divisor += delta.weight }
            if abs(divisor) < Float(1e-8) { divisor = 1 }
            var start = 0
            while start < n {
                let count = min(Self.blockSize, n - start)
                let mixed = out + start
                for j in 0 ..< count { mixed[j] = 0 }
                for delta in deltas {
                    let w = delta.weight
                    if let base = delta.base {
                        let x = delta.values + start, b = base + start
                        for j in 0 ..< count { mixed[j] += (x[j] - b[j]) * w }
                    } else {
                        for j in 0 ..< count { mixed[j] += delta.contribution(start &+ j) }
                    }
                }
                if normalize {
                    for j in 0 ..< count { mixed[j] = mixed[j] / divisor }
                }
                Self.finish(mixed, base: b + start, count: count, lambda: scaleByLambda ? lambdaFloat : nil)
                start += count
            }
        }
    }
}

extension GeneralizedTaskArithmetic {
    /// Turns input `index` into its task vector (in place: model − base) and sparsifies it.
    func taskVector(_ input: MergeInput, index: Int, base: UnsafeMutableBufferPointer<Float>) throws(MergeError)
        -> SparsifiedDelta {
        let delta = input.tensors[index]
        guard let sparsification else {
            TaskVectors.subtract(base, from: delta)
            return SparsifiedDelta(bounds: .all, scale: 1)
        }
        let parameters = input.modelParameters[index]
        let options = SparsifyOptions(
            density: parameters.number("density"), gamma: parameters.number("gamma"),
            epsilon: parameters.number("epsilon"), rescale: input.parameters.bool("rescale"))
        // The magnitude methods rank |delta|: histogram its top digits while subtracting.
        var topDigits: [Int]? = nil
        if (sparsification == .magnitude || sparsification == .magnitudeOutliers) && options.density < 1 {
            topDigits = MagnitudeSelection.subtract(UnsafeBufferPointer(base), from: delta)
        } else {
            TaskVectors.subtract(base, from: delta)
        }
        do {
            return try Sparsify.apply(sparsification, to: delta, rowLength: input.rowLength, options: options,
                                      stream: RandomStream(seed: input.seed, stream: index), topDigits: topDigits)
        } catch {
            throw .invalidInputs(method: name, tensor: input.name, reason: "input \(index): \(error)")
        }
    }

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

    /// The family in mergekit's registration order.
    public static let all: [GeneralizedTaskArithmetic] = [
        taskArithmetic, ties, dareTies, dareLinear, breadcrumbs, breadcrumbsTies, della, dellaLinear,
    ]
}

/// Input checks and the task-vector subtraction shared by the task-vector methods.
enum TaskVectors {
    /// Checks the input's shape and returns the base index and the other inputs' indices.
    static func validate(_ input: MergeInput, output: UnsafeMutableBufferPointer<Float>,
                         method: String) throws(MergeError) -> (base: Int, others: [Int]) {
        guard let baseIndex = input.baseIndex, input.tensors.indices.contains(baseIndex) else {
            throw .invalidInputs(method: method, tensor: input.name, reason: "requires a base model")
        }
        guard input.modelParameters.count == input.tensors.count else {
            throw .invalidInputs(method: method, tensor: input.name,
                                 reason: "\(input.tensors.count) inputs but \(input.modelParameters.count) parameter sets")
        }
        let n = input.tensors[baseIndex].count
        for (index, tensor) in input.tensors.enumerated() where tensor.count != n {
            throw .invalidInputs(method: method, tensor: input.name,
                                 reason: "input \(index) has \(tensor.count) elements, the base \(n)")
        }
        guard output.count == n else {
            throw .invalidInputs(method: method, tensor: input.name,
                                 reason: "output has \(output.count) elements, the inputs \(n)")
        }
        return (baseIndex, input.tensors.indices.filter { $0 != baseIndex })
    }

    /// `x ← x − base`, elementwise in float32.
    static func subtract(_ base: UnsafeMutableBufferPointer<Float>, from x: UnsafeMutableBufferPointer<Float>) {
        guard let b = base.baseAddress, let d = x.baseAddress else { return }
        for j in 0 ..< x.count { d[j] = d[j] - b[j] }
    }
}
