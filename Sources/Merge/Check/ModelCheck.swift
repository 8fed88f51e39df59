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
        results.withUnsafeMutableBufferPointer { out in
            parallelChunks(count: compared.count, chunk: 1, threads: threads) { _, range in
                for k in range {
                    out[k] = Result { () throws(MergeError) in
                        try compare(compared[k].tensors, of: models, baseIndex: baseIndex, budget: budget)
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

    /// The same sampled rows of one tensor in every model, compared.
    static func compare(_ tensors: [TensorInfo], of models: [GGUFModel], baseIndex: Int?, budget: Int) throws(MergeError) -> TensorComparison {
        let sample = RowSample(rowCount: tensors[0].rowCount, rowLength: tensors[0].rowLength, budget: budget)
        var values: [[Float]] = []
        var noise: [Double] = []
        for (tensor, model) in zip(tensors, models) {
            let read = try sample.read(tensor, of: model)
            values.append(read.values)
            noise.append(read.noise)
        }
        return TensorComparison(name: tensors[0].name, values: values, noise: noise, base: baseIndex, weight: sample.weight)
    }
}
