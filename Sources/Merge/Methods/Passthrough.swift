/// mergekit's `passthrough`: the single input, unchanged, or multiplied by its `scale`.
///
/// Parameters: `scale` (per model, optional). mergekit's default is "none" (no multiplication);
/// here it is 1, which gives the same values bit for bit (`x · 1 == x` in IEEE arithmetic).
/// Exactly one input (mergekit's contract `max_inputs=1`); layer selection happens in the plan.
public struct Passthrough: MergeMethod {
    public init() {}

    public let name = "passthrough"
    static let scale = ParameterSpec("scale", .number, .perModel, default: .number(1))
    public var parameters: [ParameterSpec] { [Self.scale] }
    public var basePolicy: BaseModelPolicy { .ignored }

    /// Elementwise: large tensors may stream through in row chunks.
    public var isRowLocal: Bool { true }

    /// Equal inputs (there is one) give that input at `scale` 1.
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool {
        exactInput(parameters: parameters, modelParameters: modelParameters, baseIndex: nil) != nil
    }

    /// With `scale` 1 the output is the input: the plan copies its bytes.
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? {
        modelParameters.count == 1 && modelParameters[0].number("scale") == 1 ? 0 : nil
    }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        try input.checkSizes(name, output: output)
        if input.tensors.count != 1 {
            throw input.invalid(name, "requires exactly 1 input; got \(input.tensors.count)")
        }
        let source = input.tensors[0]
        let scale = Float(try input.number(name, Self.scale, input: 0))
        if scale == 1 {
            for i in output.indices { output[i] = source[i] }
        } else {
            for i in output.indices { output[i] = source[i] * scale }
        }
    }
}
