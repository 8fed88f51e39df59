import GGUF

/// One input of a merge: a GGUF model (one file or split shards), optionally with a LoRA adapter
/// applied on the fly (`base.gguf+adapter.gguf` in a config).
public final class InputModel: @unchecked Sendable {
    /// How the config names it (`a.gguf`, `base.gguf+adapter.gguf`).
    public let label: String
    public let model: GGUFModel
    public let adapter: LoRAAdapter?

    public init(label: String, model: GGUFModel, adapter: LoRAAdapter? = nil) {
        self.label = label
        self.model = model
        self.adapter = adapter
    }

    /// The files this input reads, which an output must never overwrite.
    public var paths: [String] { model.files.map(\.path) + (adapter.map { [$0.path] } ?? []) }
}

/// Where an output tensor's data comes from: tensor `tensor` of input `input`.
public struct TensorSource: Sendable, Equatable {
    public var input: Int
    public var tensor: TensorInfo

    public init(input: Int, tensor: TensorInfo) {
        self.input = input
        self.tensor = tensor
    }
}

/// What to do for one output tensor.
public struct TensorJob: Sendable {
    public enum Operation: Sendable {
        /// The output is exactly this source: raw bytes when the types match, else re-encoded.
        case copy(TensorSource)
        /// `method` runs on the sources (mergekit's input order, base at `baseIndex`).
        case merge(sources: [TensorSource], baseIndex: Int?, parameters: Parameters, modelParameters: [Parameters],
                   method: any MergeMethod)
    }

    public var name: String
    public var shape: [Int]
    public var outputType: GGMLType
    public var operation: Operation
    /// Per-column importance weights for encoding the output (`shape[0]` values: the importance
    /// matrix's entry for this tensor), or nil to quantize as llama-quantize does without one.
    public var importance: [Float]?

    public init(name: String, shape: [Int], outputType: GGMLType, operation: Operation, importance: [Float]? = nil) {
        self.name = name
        self.shape = shape
        self.outputType = outputType
        self.operation = operation
        self.importance = importance
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { outputType.byteCount(elements: elementCount) ?? 0 }
    public var descriptor: TensorDescriptor { TensorDescriptor(name: name, shape: shape, type: outputType) }

    public var sources: [TensorSource] {
        switch operation {
        case let .copy(source): [source]
        case let .merge(sources, _, _, _, _): sources
        }
    }
}

/// Everything a merge will do, decided and validated before a byte is written: `--dry-run` prints
/// it, the engine executes it.
public struct MergePlan: Sendable {
    /// The merge method's name, for listings (nil for plans that only copy, such as `quantize`'s);
    /// each merge job carries the method itself.
    public var methodName: String?
    public var inputs: [InputModel]
    public var jobs: [TensorJob]
    /// The output's metadata (provenance and file type already set).
    public var metadata: Metadata

    public init(methodName: String?, inputs: [InputModel], jobs: [TensorJob], metadata: Metadata) {
        self.methodName = methodName
        self.inputs = inputs
        self.jobs = jobs
        self.metadata = metadata
    }

    /// Bytes of tensor data the output will hold (before alignment padding).
    public var outputTensorBytes: Int { jobs.reduce(0) { $0 + $1.byteCount } }
}
