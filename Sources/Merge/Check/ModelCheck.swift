import GGUF
import Quant

/// `ggufmerge check`: will these models merge? Compares metadata and tensor layout against the
/// reference (the base, else the first model), validates LoRA adapters against it, and reads sampled
/// rows of every 2-D weight (``RowSample``: a few hundred KB a tensor, never the whole model) to
/// measure relatedness.
public enum ModelCheck {
    /// Checks `models` (the base, when given, is `models[baseIndex]`) and `adapters` against the
    /// reference. Tensors are compared on `threads` threads; the result does not depend on it.
    public static func run(_ models: [GGUFModel], baseIndex: Int? = nil, adapters: [LoRAAdapter] = [],
                           budget: Int = RowSample.defaultBudget, threads: Int = 1) throws(MergeError) -> CheckReport {
        precondition(!models.isEmpty && baseIndex.map(models.indices.contains) ?? true)
        let reference = models[baseIndex ?? 0]
        var findings: [CompatibilityFinding] = []
        for (index, model) in models.enumerated() where index != (baseIndex ?? 0) {
            findings += CompatibilityFinding.compare(model, to: reference)
        }
        for adapter in adapters {
            do { try adapter.validate(against: reference) } catch {
                if case let .adapter(path, reason) = error { findings.append(.adapter(path: path, reason: reason)) } else { throw error }
            }
        }

        // The 2-D weights every model has with one shape, readable in every model.
        var compared: [(name: String, tensors: [TensorInfo])] = []
        for tensor in reference.tensors where tensor.shape.count >= 2 && tensor.rowCount > 1 {
            let tensors = models.compactMap { $0.tensor(named: tensor.name) }
            guard tensors.count == models.count, tensors.allSatisfy({ $0.shape == tensor.shape }) else { continue }
            if let (index, unreadable) = tensors.enumerated().first(where: { !isReadable($0.element.type) }) {
                findings.append(.unreadableType(model: models[index].path, tensor: tensor.name, type: unreadable.type.name))
                continue
            }
            compared.append((tensor.name, tensors))
        }

        var results = [Result<TensorComparison, MergeError>?](repeating: nil, count: compared.count)
        let scratch = (0 ..< max(threads, 1)).map { _ in Scratch() }
        results.withUnsafeMutableBufferPointer { out in
            parallelChunks(count: compared.count, chunk: 1, threads: threads) { worker, range in
                for k in range {
                    out[k] = Result { () throws(MergeError) in
                        try compare(compared[k].tensors, of: models, baseIndex: baseIndex, budget: budget, scratch: scratch[worker])
                    }
                }
            }
        }
        let tensors = try results.map { result throws(MergeError) in try result!.get() }
        return CheckReport(models: models.map(\.path), baseIndex: baseIndex, findings: findings, tensors: tensors)
    }

    static func isReadable(_ type: GGMLType) -> Bool {
        Codecs.canDequantize(type) && RoundingNoise.canEstimate(type)
    }

    /// The same sampled rows of one tensor in every model, compared, read into a worker's `scratch`.
    static func compare(_ tensors: [TensorInfo], of models: [GGUFModel], baseIndex: Int?, budget: Int,
                        scratch: Scratch) throws(MergeError) -> TensorComparison {
        let sample = RowSample(rowCount: tensors[0].rowCount, rowLength: tensors[0].rowLength, budget: budget)
        let count = sample.elementCount(rowLength: tensors[0].rowLength)
        let floats = scratch.floats(count * models.count)
        let bytes = scratch.bytes(tensors.map { sample.rows.count * $0.rowByteCount }.max() ?? 0)
        var values: [UnsafeBufferPointer<Float>] = []
        var noise: [Double] = []
        for (k, (tensor, model)) in zip(tensors, models).enumerated() {
            let slot = UnsafeMutableBufferPointer(rebasing: floats[k * count ..< (k + 1) * count])
            noise.append(try sample.read(tensor, of: model, into: slot, bytes: bytes))
            values.append(UnsafeBufferPointer(slot))
        }
        return TensorComparison(name: tensors[0].name, values: values, noise: noise, base: baseIndex, weight: sample.weight)
    }
}
