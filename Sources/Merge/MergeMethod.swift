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

    /// The number named `name`; the plan guarantees declared parameters are present and typed.
    public func number(_ name: String) -> Double { values[name]?.number ?? 0 }
    public func bool(_ name: String) -> Bool { values[name]?.bool ?? false }
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

/// One tensor's inputs for a merge method, all of the same shape, as float.
///
/// `tensors` are scratch copies the method may overwrite. They are in mergekit's input order: the
/// models as listed, with the base model included (at `baseIndex`) whenever the method uses one.
public struct MergeInput {
    /// The tensor's name in the output (GGUF naming, e.g. `blk.3.attn_q.weight`).
    public var name: String
    /// Shape in ggml order: `shape[0]` is the row length (mergekit's last dimension).
    public var shape: [Int]
    public var tensors: [UnsafeMutableBufferPointer<Float>]
    /// Per-input parameters, parallel to `tensors` (the base's entry holds defaults).
    public var modelParameters: [Parameters]
    /// Global parameters.
    public var parameters: Parameters
    public var baseIndex: Int?
    /// A seed for random methods, already mixed with the tensor's identity: the same seed and tensor
    /// give the same result whatever the thread count.
    public var seed: UInt64
    /// Threads the method may use for independent blocks (results must not depend on it).
    public var threads: Int

    public init(name: String, shape: [Int], tensors: [UnsafeMutableBufferPointer<Float>],
                modelParameters: [Parameters], parameters: Parameters, baseIndex: Int?, seed: UInt64,
                threads: Int = 1) {
        self.name = name
        self.shape = shape
        self.tensors = tensors
        self.modelParameters = modelParameters
        self.parameters = parameters
        self.baseIndex = baseIndex
        self.seed = seed
        self.threads = max(1, threads)
    }

    public var count: Int { tensors.first?.count ?? 0 }
    /// Row length (ggml `ne[0]`).
    public var rowLength: Int { shape.first ?? count }
    public var rowCount: Int { rowLength == 0 ? 0 : count / rowLength }
}

/// A merge method: a pure function from input tensors and resolved parameters to one output tensor,
/// with mergekit 0.1.5's name, parameters and semantics.
public protocol MergeMethod: Sendable {
    /// mergekit's `merge_method` name (`linear`, `ties`, …).
    var name: String { get }
    var parameters: [ParameterSpec] { get }
    var basePolicy: BaseModelPolicy { get }
    /// Writes the merged tensor into `output` (same count as the inputs).
    func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError)
    /// Whether each output row depends only on the same row of the inputs (no whole-tensor statistic,
    /// no randomness): the engine may then stream large tensors through in row chunks, so that no
    /// tensor is ever whole in memory. Default false.
    var isRowLocal: Bool { get }
    /// The input whose tensor the merge returns unchanged for these parameters (a weight of 1 and
    /// the rest 0, `t = 0`, all task-vector weights 0, …), or nil. The plan then copies that input's
    /// bytes instead of computing, and never requantizes them. Default nil.
    func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int?
    /// Whether merging inputs that are all equal returns that same tensor for these parameters (true
    /// for averages, interpolations and task-vector methods; false for a linear sum whose weights do
    /// not add up to 1, or a scaled passthrough). The engine then copies the bytes when the inputs are
    /// byte-identical, instead of requantizing them. Default false.
    func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool
}

extension MergeMethod {
    public var isRowLocal: Bool { false }

    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? { nil }

    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { false }
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
