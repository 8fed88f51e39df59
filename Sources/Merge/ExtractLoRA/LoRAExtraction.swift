import GGUF
import Quant

/// `ggufmerge extract-lora`: the inverse of applying an adapter, as `mergekit-extract-lora` does for
/// Hugging Face models. For every 2-D weight, the best rank-r approximation of `finetune − base`
/// (``RandomizedSVD``), written as a llama.cpp LoRA adapter GGUF: `general.type = adapter`,
/// `adapter.type = lora`, `adapter.lora.alpha`, and per weight `<name>.lora_a` (ggml shape
/// `[n_in, r]`) and `<name>.lora_b` (`[r, n_out]`), so that `delta = (alpha / r)·B·A` as
/// `llama-adapter.cpp` and ``LoRAAdapter`` read it. Token embeddings follow the converter's flipped
/// layout (`lora_a` `[r, n_vocab]` holds B, `lora_b` `[r, n_embd]` holds Aᵀ).
///
/// One tensor is decoded at a time (bounded memory); only the small factors are kept until the file
/// is written. Inputs may be of any readable type.
public enum LoRAExtraction {
    public struct Options: Sendable {
        /// The rank of every adapted weight (the maximum with `energy`).
        public var rank: Int
        /// When set, each weight's rank is the smallest that keeps this fraction of its delta's energy
        /// (Σσ² over ‖delta‖²), at most `rank`.
        public var energy: Double?
        public var seed: UInt64
        public var threads: Int
        public var powerIterations = 2
        public var oversampling = 10

        public init(rank: Int, energy: Double? = nil, seed: UInt64 = 0, threads: Int = 1) {
            self.rank = rank
            self.energy = energy
            self.seed = seed
            self.threads = threads
        }
    }

    /// What happened to one tensor of the base.
    public struct TensorReport: Sendable, Equatable {
        public enum Outcome: Sendable, Equatable {
            /// Stored as a pair with this rank; `relativeError` is ‖delta − B·A‖ / ‖delta‖ as the
            /// discarded singular values give it.
            case extracted(rank: Int, relativeError: Double)
            /// Equal in both models: no pair written.
            case unchanged
            /// A 1-D (or single-row) tensor that changed by ‖Δ‖/‖base‖ = `relativeChange`: a LoRA
            /// cannot hold it, so the adapter loses it.
            case notAdaptable(relativeChange: Double)
        }
        public var name: String
        public var outcome: Outcome
    }

    /// Extracts the adapter of `finetune` against `base` and writes it to `path` (atomically).
    @discardableResult
    public static func run(base: GGUFModel, finetune: GGUFModel, to path: String, options: Options,
                           progress: (Int, Int) -> Void = { _, _ in }) throws(MergeError) -> [TensorReport] {
        let architecture = base.metadata["general.architecture"]?.string ?? ""
        if let other = finetune.metadata["general.architecture"]?.string, other != architecture {
            throw .incompatible("\(finetune.path) is a '\(other)' model, \(base.path) a '\(architecture)' model: architectures differ")
        }
        var reports: [TensorReport] = []
        var factors: [(descriptor: TensorDescriptor, values: [Float])] = []
        for (index, tensor) in base.tensors.enumerated() {
            progress(index, base.tensors.count)
            guard let other = finetune.tensor(named: tensor.name) else {
                throw .incompatible("\(finetune.path) has no tensor \(tensor.name) (\(base.path) has)")
            }
            guard other.shape == tensor.shape else {
                throw .incompatible("tensor \(tensor.name): \(finetune.path) has shape \(other.shape), \(base.path) has \(tensor.shape)")
            }
            var delta = try decode(other, of: finetune)
            let original = try decode(tensor, of: base)
            var deltaEnergy = 0.0, baseEnergy = 0.0
            for k in delta.indices {
                delta[k] -= original[k]
                deltaEnergy += Double(delta[k]) * Double(delta[k])
                baseEnergy += Double(original[k]) * Double(original[k])
            }
            if deltaEnergy == 0 {
                reports.append(TensorReport(name: tensor.name, outcome: .unchanged))
                continue
            }
            guard tensor.shape.count == 2, tensor.rowCount > 1 else {
                let change = baseEnergy > 0 ? (deltaEnergy / baseEnergy).squareRoot() : .infinity
                reports.append(TensorReport(name: tensor.name, outcome: .notAdaptable(relativeChange: change)))
                continue
            }
            let (nIn, nOut) = (tensor.shape[0], tensor.shape[1])
            let svd = delta.withUnsafeBufferPointer { matrix in
                RandomizedSVD(matrix, rows: nOut, columns: nIn, rank: options.rank, oversampling: options.oversampling,
                              powerIterations: options.powerIterations,
                              random: RandomStream(seed: options.seed, stream: index), threads: options.threads)
            }
            let rank = chosenRank(svd.singularValues, energy: deltaEnergy, options: options)
            let kept = svd.singularValues.prefix(rank).reduce(0) { $0 + $1 * $1 }
            let error = (max(deltaEnergy - kept, 0) / deltaEnergy).squareRoot()
            reports.append(TensorReport(name: tensor.name, outcome: .extracted(rank: rank, relativeError: error)))
            factors += pair(tensor.name, svd, rank: rank, nIn: nIn, nOut: nOut, alpha: Float(options.rank))
        }
        progress(base.tensors.count, base.tensors.count)
        try write(factors, to: path, architecture: architecture, alpha: Float(options.rank), inputs: base.files.map(\.path) + finetune.files.map(\.path))
        return reports
    }

    /// The rank for these singular values: `options.rank`, or with `energy` the smallest keeping
    /// that fraction of `energy` Σσ² (at most `options.rank`, at least 1).
    static func chosenRank(_ singularValues: [Double], energy total: Double, options: Options) -> Int {
        let available = min(options.rank, singularValues.count)
        guard let fraction = options.energy else { return available }
        var kept = 0.0
        for (r, sigma) in singularValues.prefix(available).enumerated() {
            kept += sigma * sigma
            if kept >= fraction * total { return r + 1 }
        }
        return available
    }

    /// The two factor tensors: A = √Σ·Vᵀ (r rows of n_in), B = U·√Σ (n_out rows of r), B scaled by
    /// r / alpha so that `(alpha / r)·B·A` is the rank-r approximation whatever r each tensor gets.
    static func pair(_ name: String, _ svd: RandomizedSVD, rank: Int, nIn: Int, nOut: Int, alpha: Float)
        -> [(descriptor: TensorDescriptor, values: [Float])] {
        let roots = svd.singularValues.prefix(rank).map { Float($0.squareRoot()) }
        let fold = Float(rank) / alpha
        var a = [Float](repeating: 0, count: rank * nIn)        // rank rows of n_in
        var b = [Float](repeating: 0, count: nOut * rank)       // n_out rows of rank
        for r in 0..<rank {
            for i in 0..<nIn { a[r &* nIn &+ i] = roots[r] * svd.v[r][i] }
            for o in 0..<nOut { b[o &* rank &+ r] = roots[r] * svd.u[r][o] * fold }
        }
        if name.hasPrefix("token_embd") {
            // llama.cpp's flipped embedding layout: lora_a holds B ([r, n_vocab]), lora_b holds Aᵀ ([r, n_embd]).
            var aTransposed = [Float](repeating: 0, count: nIn * rank)
            for r in 0..<rank { for i in 0..<nIn { aTransposed[i &* rank &+ r] = a[r &* nIn &+ i] } }
            return [(TensorDescriptor(name: name + ".lora_a", shape: [rank, nOut], type: .f32), b),
                    (TensorDescriptor(name: name + ".lora_b", shape: [rank, nIn], type: .f32), aTransposed)]
        }
        return [(TensorDescriptor(name: name + ".lora_a", shape: [nIn, rank], type: .f32), a),
                (TensorDescriptor(name: name + ".lora_b", shape: [rank, nOut], type: .f32), b)]
    }

    static func decode(_ tensor: TensorInfo, of model: GGUFModel) throws(MergeError) -> [Float] {
        guard Codecs.canDequantize(tensor.type) else {
            throw .unsupportedType(file: model.path, tensor: tensor.name, type: tensor.type.name)
        }
        var values = [Float](repeating: 0, count: tensor.elementCount)
        do {
            try values.withUnsafeMutableBufferPointer { (out) throws(QuantError) in
                try Codecs.dequantize(tensor.type, model.bytes(of: tensor), into: out)
            }
        } catch {
            throw .file("\(model.path): tensor \(tensor.name): \(error.description)")
        }
        model.releasePages(of: tensor)
        return values
    }

    static func write(_ factors: [(descriptor: TensorDescriptor, values: [Float])], to path: String,
                      architecture: String, alpha: Float, inputs: [String]) throws(MergeError) {
        let metadata: Metadata = [
            "general.architecture": .string(architecture),
            "general.type": .string("adapter"),
            "adapter.type": .string("lora"),
            "adapter.lora.alpha": .float32(alpha),
            "general.quantization_version": .uint32(2),
        ]
        do throws(GGUFError) {
            let writer = try GGUFWriter(path: path, metadata: metadata, tensors: factors.map(\.descriptor), protecting: inputs)
            for factor in factors {
                let written: Result<Void, GGUFError> = factor.values.withUnsafeBytes { bytes in
                    Result { () throws(GGUFError) in try writer.append(bytes) }
                }
                try written.get()
            }
            try writer.finish()
        } catch {
            throw .file(error.description)
        }
    }
}
