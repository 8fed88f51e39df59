import GGUF
import Quant

/// The checks that make a plan a contract: whatever a run can fail on for reasons known before it
/// starts is refused here, before the output exists (and `--dry-run` fails the same way).
extension MergePlan {
    /// Checks that the output can be written where `target` says: its directory exists and is
    /// writable, no file of it is a directory or an input, and none exists unless overwriting.
    public func check(output target: OutputTarget) throws(MergeError) {
        do {
            try target.check(byteCounts: jobs.map(\.byteCount), protecting: inputs.flatMap(\.paths))
        } catch {
            throw .gguf(error, context: nil)
        }
    }

    /// Checks that every tensor the engine must decode has a type this version decodes, and every
    /// tensor it must encode a type it encodes (a tensor copied in its own type needs neither).
    public func checkCodecs() throws(MergeError) {
        for job in jobs {
            if case let .copy(source) = job.operation, source.tensor.type == job.outputType,
               inputs[source.input].adapter?.pairs[source.tensor.name] == nil { continue }
            for source in job.sources where !Codecs.canDequantize(source.tensor.type) {
                throw .unsupportedType(file: inputs[source.input].label, tensor: source.tensor.name,
                                       type: source.tensor.type.name)
            }
            guard Codecs.canQuantize(job.outputType) else {
                throw .unsupportedType(file: "output", tensor: job.name, type: job.outputType.name)
            }
        }
    }
}

extension InputModel {
    /// The model at `path` as an input labelled by its path (see `openModel`).
    public static func open(path: String) throws(MergeError) -> InputModel {
        InputModel(label: path, model: try openModel(path: path, context: nil))
    }

    /// Opens the model at `path` (one file or the first shard of a split model) as an input, refusing
    /// a LoRA adapter given where a model belongs. `context` says what the path is to the user
    /// (`config.yml: model 'a.gguf'`).
    static func openModel(path: String, context: String?) throws(MergeError) -> GGUFModel {
        let model: GGUFModel
        do { model = try GGUFModel(path: path) } catch { throw .gguf(error, context: context) }
        if model.metadata["general.type"]?.string == "adapter" {
            throw .adapterAsModel(path: path, context: context)
        }
        return model
    }
}

extension MergePlan {
    /// The `<arch>.` hyperparameters llama.cpp reads that fix the shape of a layer or how it
    /// computes (`block_count` excepted: the output's is recomputed; `context_length` excepted: a
    /// training length, not a shape; `vocab_size` excepted: vocabularies that differ are the tokenizer
    /// settings' business, `VocabularyMerge`). Layers stacked from models that differ in one of these make a
    /// file llama.cpp loads wrongly or not at all.
    static let sharedHyperparameters = [
        "embedding_length", "feed_forward_length", "attention.head_count", "attention.head_count_kv",
        "attention.key_length", "attention.value_length", "rope.dimension_count", "rope.freq_base",
        "rope.scaling.type", "rope.scaling.factor", "attention.layer_norm_rms_epsilon",
        "attention.layer_norm_epsilon", "expert_count", "expert_used_count",
    ]

    /// Checks that every input agrees with the first on each of `sharedHyperparameters` (present in
    /// both or absent in both, equal values).
    static func checkHyperparameters(_ inputs: [InputModel]) throws(MergeError) {
        guard let first = inputs.first, let architecture = first.model.metadata["general.architecture"]?.string else { return }
        for input in inputs.dropFirst() {
            for name in sharedHyperparameters {
                let key = "\(architecture).\(name)"
                let a = first.model.metadata[key], b = input.model.metadata[key]
                guard a != b else { continue }
                throw .incompatible("\(key) is \(b.map { "\($0)" } ?? "missing") in \(input.label) but \(a.map { "\($0)" } ?? "missing") in \(first.label): "
                                    + "models merged or stacked must agree on the hyperparameters llama.cpp reads")
            }
        }
    }
}
