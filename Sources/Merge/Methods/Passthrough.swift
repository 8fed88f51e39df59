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

    /// Equal inputs (there is one) give that input at `scale` 1.
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool {
        exactInput(parameters: parameters, modelParameters: modelParameters, baseIndex: nil) != nil
    }

    /// With `scale` 1 the output is the input: the plan copies its bytes.
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? {
        modelParameters.count == 1 && Self.scale.number(in: modelParameters[0]) == 1 ? 0 : nil
    }

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        if unit.inputCount != 1 {
            throw unit.invalid(name, "requires exactly 1 input; got \(unit.inputCount)")
        }
        return Merge(scale: Float(try unit.number(name, Self.scale, input: 0)))
    }

    /// The input times `scale`, elementwise.
    struct Merge: RowLocalMerge {
        var scale: Float

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            let source = piece.inputs[0]
            if scale == 1 {
                _ = output.update(fromContentsOf: source)
            } else {
                for i in output.indices { output[i] = source[i] * scale }
            }
        }
    }
}
