import Foundation
import GGUF
import Quant

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
    /// Per-column importance weights for encoding the output (the importance matrix's entry for this
    /// tensor: `shape[0]` values, or `shape[0] × shape[2]` for an expert tensor, one slice per expert), or
    /// nil to quantize as llama-quantize does without one.
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

/// Which per-tensor types a llama-quantize file type gives (`--recipe`).
public enum RecipeChoice: String, Sendable, CaseIterable {
    /// llama-quantize's recipe, plus one step more for the `attn_v`/`ffn_down` tensors it leaves at the
    /// mix's base type when their inputs are stored at ≤ 5 bits per weight
    /// (``QuantizationRecipe/promotions(lowBitInputs:)``). The default.
    case auto
    /// Those promotions whatever the inputs' types.
    case promoted
    /// Exactly llama-quantize's recipe.
    case llama

    /// Inputs stored at this many bits per weight or fewer carry enough rounding noise that the
    /// recipe spends a few more bits on the tensors that need them most (Q5_K, 5.5 bits, does not).
    public static let lowBitLimit = 5.0
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
    /// Tensors the requantization recipe raised above llama-quantize's type (``RecipeChoice``).
    public var promotions: [TypePromotion] = []
    /// Tensors whose rows do not fit the type llama-quantize's rules chose (Q4_K_M's Q4_K on rows
    /// not a multiple of 256, …), by name: the type chosen; the job holds the fallback used.
    public var fallbacks: [String: GGMLType] = [:]
    /// Vocabulary tensors whose rows are laid out anew in the output vocabulary (tokenizer settings).
    public var vocabularyRows: [VocabularyKey: VocabularyRows] = [:]

    public init(methodName: String?, inputs: [InputModel], jobs: [TensorJob], metadata: Metadata) {
        self.methodName = methodName
        self.inputs = inputs
        self.jobs = jobs
        self.metadata = metadata
    }

    /// Bytes the promotions add to the output's tensor data.
    public var promotionBytes: Int {
        let elements = Dictionary(jobs.map { ($0.name, $0.elementCount) }, uniquingKeysWith: { first, _ in first })
        return promotions.reduce(0) { total, promotion in
            let count = elements[promotion.name] ?? 0
            return total + (promotion.to.byteCount(elements: count) ?? 0) - (promotion.from.byteCount(elements: count) ?? 0)
        }
    }

    /// One line per promoted tensor and the size change, for `--dry-run` and the report ("" without
    /// promotions).
    public var promotionSummary: String {
        guard !promotions.isEmpty else { return "" }
        let total = outputTensorBytes, added = promotionBytes
        let percent = total > added ? 100 * Double(added) / Double(total - added) : 0
        var text = "requantization recipe: \(promotions.count) tensors raised one step for low-bit inputs "
            + "(+\(String(format: "%.1f", percent)) % tensor data; --recipe llama keeps llama-quantize's types):\n"
        for promotion in promotions { text += "  \(promotion.name): \(promotion.from.name) → \(promotion.to.name)\n" }
        return text
    }

    /// Bytes of tensor data the output will hold (before alignment padding).
    public var outputTensorBytes: Int { jobs.reduce(0) { $0 + $1.byteCount } }
}
