/// mergekit's `passthrough`: the single input, unchanged.
///
/// The plan turns `passthrough` tensors into raw copies (no decoding), so this merge only runs when
/// called directly; it copies its one input.
///
/// mergekit also accepts an optional per-input `scale` (multiply the tensor by it when given). It is
/// not declared here: ``ParameterSpec`` has no "optional without default", and the plan's raw copy
/// would ignore it, so a config that sets `scale` is rejected as an unknown parameter rather than
/// silently merged without it.
public struct Passthrough: MergeMethod {
    public init() {}

    public var name: String { "passthrough" }
    public var basePolicy: BaseModelPolicy { .ignored }
    public var parameters: [ParameterSpec] { [] }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        _ = try MethodInputs.elementCount(input, output: output, method: name)
        try MethodInputs.expect(input.tensors.count, 1, "input", input: input, method: name)
        _ = output.update(fromContentsOf: input.tensors[0])
    }
}
