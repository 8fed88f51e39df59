import GGUF
import Quant

/// A llama.cpp LoRA adapter GGUF (`general.type = adapter`, `adapter.type = lora`), as written by
/// `convert_lora_to_gguf.py`: for each adapted tensor `<name>`, `<name>.lora_a` (ggml shape
/// `[n_in, rank]`) and `<name>.lora_b` (`[rank, n_out]`), and `adapter.lora.alpha`.
public final class LoRAAdapter: @unchecked Sendable {
    public let path: String
    public let file: GGUFFile
    public let alpha: Float
    /// The user's scale (`adapter.gguf:0.5`), 1 by default.
    public let scale: Float
    /// The adapted base tensors, by base tensor name.
    public let pairs: [String: (a: TensorInfo, b: TensorInfo)]

    public init(path: String, scale: Float = 1) throws(MergeError) {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .gguf(error, context: nil) }
        self.path = path
        self.file = file
        self.scale = scale
        guard file.metadata["general.type"]?.string == "adapter",
              file.metadata["adapter.type"]?.string == "lora" else {
            throw .adapter(path: path, reason: "not a LoRA adapter (general.type must be 'adapter', adapter.type 'lora')")
        }
        alpha = Float(file.metadata["adapter.lora.alpha"]?.double ?? 0)
        var halves: [String: (a: TensorInfo?, b: TensorInfo?)] = [:]
        for tensor in file.tensors {
            if tensor.name.hasSuffix(".lora_a") {
                halves[String(tensor.name.dropLast(7)), default: (nil, nil)].a = tensor
            } else if tensor.name.hasSuffix(".lora_b") {
                halves[String(tensor.name.dropLast(7)), default: (nil, nil)].b = tensor
            } else {
                throw .adapter(path: path, reason: "tensor \(tensor.name) is neither .lora_a nor .lora_b")
            }
        }
        var pairs: [String: (a: TensorInfo, b: TensorInfo)] = [:]
        for (name, half) in halves.sorted(by: { $0.key < $1.key }) {
            guard let a = half.a, let b = half.b else {
                throw .adapter(path: path, reason: "\(name) has \(half.a == nil ? ".lora_b but no .lora_a" : ".lora_a but no .lora_b")")
            }
            guard a.shape.count == 2, b.shape.count == 2 else {
                throw .adapter(path: path, reason: "\(name): lora_a and lora_b must be matrices")
            }
            pairs[name] = (a, b)
        }
        self.pairs = pairs
    }

    /// Checks the adapter against its base: architecture, every target tensor present with a matching
    /// shape, and a consistent rank.
    public func validate(against base: GGUFModel) throws(MergeError) {
        if let arch = file.metadata["general.architecture"]?.string,
           let baseArch = base.metadata["general.architecture"]?.string, arch != baseArch {
            throw .adapter(path: path, reason: "architecture \(arch) does not match base \(base.path) (\(baseArch))")
        }
        for (name, pair) in pairs.sorted(by: { $0.key < $1.key }) {
            guard let target = base.tensor(named: name) else {
                throw .adapter(path: path, reason: "adapts \(name), which base \(base.path) does not have")
            }
            guard let (nIn, nOut, _) = Self.geometry(name: name, a: pair.a, b: pair.b),
                  target.shape.count == 2, target.shape[0] == nIn, target.shape[1] == nOut else {
                throw .adapter(path: path, reason: "\(name): lora_a \(pair.a.shape) and lora_b \(pair.b.shape) do not fit base shape \(target.shape)")
            }
        }
    }

    /// `(n_in, n_out, rank)` of the delta, following llama-export-lora (token embeddings are stored
    /// transposed by the converter), or nil if the two halves disagree on the rank.
    static func geometry(name: String, a: TensorInfo, b: TensorInfo) -> (Int, Int, Int)? {
        let rank = b.shape[0]
        if name.hasPrefix("token_embd") {
            guard a.shape[0] == rank else { return nil }
            return (b.shape[1], a.shape[1], rank)
        }
        guard a.shape[1] == rank else { return nil }
        return (a.shape[0], b.shape[1], rank)
    }

    /// The delta of tensor `name`, its factors decoded (once per tensor: pieces of rows then add it
    /// with `Delta.add(to:rows:)`), or nil for tensors the adapter does not touch.
    public func delta(for name: String) throws(MergeError) -> Delta? {
        guard let pair = pairs[name], let (nIn, nOut, rank) = Self.geometry(name: name, a: pair.a, b: pair.b) else { return nil }
        let a = try floats(pair.a), b = try floats(pair.b)
        // delta[o][i] = Σ_r B[o][r]·A[r][i] with A as `rank` rows of n_in and B as n_out rows of `rank`.
        // Token embeddings come the other way round (llama-export-lora multiplies lora_b by lora_a):
        // lora_a holds B's rows and lora_b holds A transposed.
        var aRows = a, bRows = b
        if name.hasPrefix("token_embd") {
            bRows = a
            aRows = [Float](repeating: 0, count: rank * nIn)
            for i in 0 ..< nIn { for r in 0 ..< rank { aRows[r &* nIn &+ i] = b[i &* rank &+ r] } }
        }
        return Delta(path: path, tensor: name, inputs: nIn, outputs: nOut, rank: rank, a: aRows, b: bRows,
                     factor: alpha != 0 ? scale * alpha / Float(rank) : scale)
    }

    /// `scale · (alpha / rank) · B·A` for one tensor, with its factors in float.
    public struct Delta: Sendable {
        var path: String
        var tensor: String
        /// n_in (the row length) and n_out (the row count) of the adapted tensor.
        var inputs: Int, outputs: Int
        var rank: Int
        /// `rank` rows of n_in, and n_out rows of `rank`.
        var a: [Float], b: [Float]
        var factor: Float

        /// Adds the delta's rows `rows` to `weights`, which holds those rows of the base tensor in
        /// float (ggml row-major).
        public func add(to weights: UnsafeMutableBufferPointer<Float>, rows: Range<Int>) throws(MergeError) {
            let nIn = inputs, rank = rank, factor = factor
            guard rows.upperBound <= outputs, weights.count == nIn * rows.count else {
                throw .adapter(path: path, reason: "\(tensor): delta has \(nIn * outputs) elements, base tensor \(weights.count)")
            }
            a.withUnsafeBufferPointer { aPtr in
                b.withUnsafeBufferPointer { bPtr in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: nIn) { acc in
                        for o in rows {
                            for i in 0 ..< nIn { acc[i] = 0 }
                            for r in 0 ..< rank {
                                let coefficient = bPtr[o &* rank &+ r]
                                let base = r &* nIn
                                for i in 0 ..< nIn { acc[i] += coefficient * aPtr[base &+ i] }
                            }
                            let out = (o &- rows.lowerBound) &* nIn
                            for i in 0 ..< nIn { weights[out &+ i] += factor * acc[i] }
                        }
                    }
                }
            }
        }
    }

    private func floats(_ tensor: TensorInfo) throws(MergeError) -> [Float] {
        var values = [Float](repeating: 0, count: tensor.elementCount)
        do {
            try values.withUnsafeMutableBufferPointer { (out) throws(QuantError) in
                try Codecs.dequantize(tensor.type, file.bytes(of: tensor), into: out)
            }
        } catch {
            throw .adapter(path: path, reason: "\(tensor.name): \(error.description)")
        }
        return values
    }
}
