import Foundation
import GGUF
import Quant

/// A resolved parameter value, as mergekit's parameters are: a number or a flag.
public enum ParameterValue: Sendable, Equatable, CustomStringConvertible {
    case number(Double)
    case bool(Bool)

    public var number: Double? {
        if case let .number(value) = self { return value }
        return nil
    }

    public var bool: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    public var description: String {
        switch self {
        case let .number(value): value.formatted
        case let .bool(value): value ? "true" : "false"
        }
    }
}

extension Double {
    /// `0.5`, `1`, `1e-06`: the shortest text that reads back as this value.
    var formatted: String {
        self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : "\(self)"
    }
}

/// The kind of value a parameter takes.
public enum ParameterKind: Sendable, Equatable {
    case number
    case bool
}

/// Where a parameter is given: once per merge (`t`, `normalize`, `lambda`) or per input model
/// (`weight`, `density`). As in mergekit, a per-model parameter missing on a model falls back to the
/// global `parameters:` value, then to the default.
public enum ParameterScope: Sendable, Equatable {
    case global
    case perModel
}

/// One parameter a method accepts, with mergekit's name and default (nil: required).
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var kind: ParameterKind
    public var scope: ParameterScope
    public var defaultValue: ParameterValue?

    public init(_ name: String, _ kind: ParameterKind, _ scope: ParameterScope, default defaultValue: ParameterValue?) {
        self.name = name
        self.kind = kind
        self.scope = scope
        self.defaultValue = defaultValue
    }
}

/// Parameter values resolved for one tensor (gradients and filters already evaluated).
public struct Parameters: Sendable, Equatable {
    public var values: [String: ParameterValue]

    public init(_ values: [String: ParameterValue] = [:]) { self.values = values }

    public subscript(name: String) -> ParameterValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

}

extension ParameterSpec {
    /// This parameter's number in `parameters`, else its default (nil when neither is a number).
    public func number(in parameters: Parameters) -> Double? {
        parameters[name]?.number ?? defaultValue?.number
    }

    /// This parameter's flag in `parameters`, else its default.
    public func bool(in parameters: Parameters) -> Bool? {
        parameters[name]?.bool ?? defaultValue?.bool
    }
}

/// What a method makes of the base model.
public enum BaseModelPolicy: Sendable, Equatable {
    /// The method needs a base model (task-vector methods, model_stock, …).
    case required
    /// Used when given (e.g. nuslerp, multislerp, karcher subtract it when present).
    case optional
    /// Not used; a base model is just one more input if listed in `models`.
    case ignored
}

/// What a method merges at once: one tensor, or one expert of a 3-D expert tensor (`ffn_*_exps`,
/// whose statistics are taken per expert, as older mergekit merged each expert module on its own).
///
/// Its rows reach the method in pieces (`RowPiece`); nothing of the unit is ever whole in memory.
public struct MergeUnit: Sendable {
    /// The tensor's name in the output (GGUF naming, e.g. `blk.3.attn_q.weight`).
    public var name: String
    /// Shape in ggml order (`shape[0]` is the row length, mergekit's last dimension); at most 2-D.
    public var shape: [Int]
    /// Number of inputs, in mergekit's input order (the base included at `baseIndex` when the method
    /// uses one).
    public var inputCount: Int
    /// Per-input parameters (the base's entry holds defaults).
    public var modelParameters: [Parameters]
    /// Global parameters.
    public var parameters: Parameters
    public var baseIndex: Int?
    /// A seed for random methods, already mixed with the tensor's identity.
    public var seed: UInt64

    public init(name: String, shape: [Int], inputCount: Int, modelParameters: [Parameters],
                parameters: Parameters, baseIndex: Int?, seed: UInt64) {
        self.name = name
        self.shape = shape
        self.inputCount = inputCount
        self.modelParameters = modelParameters
        self.parameters = parameters
        self.baseIndex = baseIndex
        self.seed = seed
    }

    public var elementCount: Int { shape.reduce(1, *) }
    /// Row length (ggml `ne[0]`).
    public var rowLength: Int { shape.first ?? 0 }
    public var rowCount: Int { rowLength == 0 ? 0 : elementCount / rowLength }
}

/// Consecutive rows of every input of a unit, dequantized (LoRA deltas applied): what a method sees.
///
/// `inputs` are scratch buffers the method may overwrite, `rows.count × rowLength` floats each, in
/// the unit's input order.
public struct RowPiece {
    public var inputs: [UnsafeMutableBufferPointer<Float>]
    /// The rows, numbered within the unit.
    public var rows: Range<Int>
    public var rowLength: Int
    /// The index of the piece's first element in the whole tensor: random draws are keyed by it, so
    /// they do not depend on how a tensor is cut into pieces.
    public var firstElement: Int

    public init(inputs: [UnsafeMutableBufferPointer<Float>], rows: Range<Int>, rowLength: Int, firstElement: Int) {
        self.inputs = inputs
        self.rows = rows
        self.rowLength = rowLength
        self.firstElement = firstElement
    }

    public var count: Int { rows.count * rowLength }
}

/// A merge method: mergekit 0.1.5's name, parameters and semantics, as a function from input
/// tensors and resolved parameters to one output tensor.
///
/// A method never sees a whole tensor: `prepare` checks a unit's parameters and returns the
/// `UnitMerge` the engine then drives over row pieces: statistics passes (norms, dots, magnitude
/// thresholds, …), then the row pass that writes the output.
public protocol MergeMethod: Sendable {
    /// mergekit's `merge_method` name (`linear`, `ties`, …).
    var name: String { get }
    var parameters: [ParameterSpec] { get }
    var basePolicy: BaseModelPolicy { get }
    /// The merge of one unit, with its parameters checked.
    func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge
    /// The input whose tensor the merge returns unchanged for these parameters (a weight of 1 and
    /// the rest 0, `t = 0`, all task-vector weights 0, …), or nil. The plan then copies that input's
    /// bytes instead of computing, and never requantizes them. Default nil.
    func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int?
    /// Whether merging inputs that are all equal returns that same tensor for these parameters. The
    /// engine then copies the bytes when the inputs are byte-identical, instead of requantizing them.
    /// Default true (averages, interpolations and task-vector methods); false for a linear sum whose
    /// weights do not add up to 1, or a scaled passthrough.
    func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool
}

extension MergeMethod {
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? { nil }

    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }
}

/// One unit's merge as the engine drives it: while `needsPass`, a statistics pass (`statistics` on
/// every piece, in parallel; `accumulate` of the results in piece order; then `finishPass`), then the
/// row pass (`merge` on every piece, in parallel).
///
/// Partial results are folded in piece order and pieces have a fixed number of rows, so results never
/// depend on the thread count.
public protocol UnitMerge {
    /// One piece's share of the current pass's statistics.
    associatedtype Partial
    /// Whether another statistics pass must run before rows can be merged.
    var needsPass: Bool { get }
    /// The current pass's statistics over one piece (its inputs may be overwritten).
    func statistics(_ piece: RowPiece) -> Partial
    /// Adds one piece's statistics; called in piece order.
    mutating func accumulate(_ partial: Partial)
    /// Closes the current pass: its statistics are complete.
    mutating func finishPass() throws(MergeError)
    /// Merges one piece with the statistics fixed (its inputs may be overwritten).
    func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>)
    /// The current pass's statistics over one piece read as stored, every input's rows in `type`
    /// blocks (`inputs`: each input's bytes of the piece's rows), or nil when the merge has no such path
    /// for `type`: the rows are then decoded and given to `statistics(_:)`. The default is nil.
    func statistics(stored inputs: [UnsafeRawBufferPointer], type: GGMLType) -> Partial?
}

extension UnitMerge {
    public func statistics(stored inputs: [UnsafeRawBufferPointer], type: GGMLType) -> Partial? { nil }
}

/// A merge that needs no statistics: each output row depends on the same row of the inputs only.
public protocol RowLocalMerge: UnitMerge where Partial == Void {}

extension RowLocalMerge {
    public var needsPass: Bool { false }
    public func statistics(_ piece: RowPiece) {}
    public mutating func accumulate(_ partial: Void) {}
    public mutating func finishPass() throws(MergeError) {}
}

/// Errors of the `Merge` module: one line each, naming what is wrong.
public enum MergeError: Error, Equatable, CustomStringConvertible {
    /// A method cannot run on the inputs it was given (wrong input count, missing base, …).
    case invalidInputs(method: String, tensor: String, reason: String)
    /// A file could not be read or written (the message names it).
    case file(String)
    /// A tensor's type cannot be decoded or encoded by this version.
    case unsupportedType(file: String, tensor: String, type: String)
    /// A LoRA adapter is malformed or does not fit its base.
    case adapter(path: String, reason: String)
    /// A LoRA adapter (`general.type = adapter`) given where a model belongs; `context` says where.
    case adapterAsModel(path: String, context: String?)
    /// Inputs that cannot be merged together (architecture, names, shapes, vocabulary).
    case incompatible(String)
    /// An importance matrix that cannot be read or does not fit the model.
    case importanceMatrix(ImportanceMatrixError)
    case other(String)
    /// A GGUF file cannot be read, or the output cannot be written there: the reader's or writer's
    /// error, with what the file was to the merge (`config.yml: model 'a.gguf'`) when that helps.
    case gguf(GGUFError, context: String?)
    /// llama-quantize's type rules refuse the output (a type that needs an importance matrix, rows
    /// no type fits, …); `context` names the model or config.
    case quantization(QuantError, context: String)

    public var description: String {
        switch self {
        case let .invalidInputs(method, tensor, reason): "\(method): tensor \(tensor): \(reason)"
        case let .file(message), let .incompatible(message), let .other(message): message
        case let .unsupportedType(file, tensor, type): "\(file): tensor \(tensor): type \(type) is not supported"
        case let .adapter(path, reason): "\(path): \(reason)"
        case let .importanceMatrix(error): error.description
        case let .gguf(error, context): context.map { "\($0): \(error)" } ?? error.description
        case let .adapterAsModel(path, context):
            (context.map { $0 + ": " } ?? "") + "\(path) is a LoRA adapter, not a model; apply it to its base as "
                + "base.gguf+\(path.split(separator: "/").last.map(String.init) ?? path) or with 'ggufmerge lora'"
        case let .quantization(error, context): "\(context): \(error)"
        }
    }
}
