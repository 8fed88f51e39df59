/// Input checks and parameter look-ups shared by the merge methods.
extension MergeInput {
    /// The error for inputs this method cannot merge.
    func invalid(_ method: String, _ reason: String) -> MergeError {
        .invalidInputs(method: method, tensor: name, reason: reason)
    }

    /// Checks that every input and the output hold the same number of elements, that the shape
    /// agrees with that count and that there is one parameter set per input.
    func checkSizes(_ method: String, output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        if tensors.isEmpty { throw invalid(method, "no inputs") }
        let elements = shape.reduce(1, *)
        if shape.isEmpty || elements != output.count {
            throw invalid(method, "shape \(shape) does not match \(output.count) output elements")
        }
        if let bad = tensors.firstIndex(where: { $0.count != output.count }) {
            throw invalid(method, "input \(bad) has \(tensors[bad].count) elements, expected \(output.count)")
        }
        if modelParameters.count != tensors.count {
            throw invalid(method, "\(modelParameters.count) parameter sets for \(tensors.count) inputs")
        }
        if let base = baseIndex, !tensors.indices.contains(base) {
            throw invalid(method, "base index \(base) is out of range for \(tensors.count) inputs")
        }
    }

    /// The indices of the inputs that are not the base, in input order.
    var nonBaseIndices: [Int] { tensors.indices.filter { $0 != baseIndex } }

    /// Input `index`'s value of the per-model number `spec`, else the spec's default.
    func number(_ method: String, _ spec: ParameterSpec, input index: Int) throws(MergeError) -> Double {
        guard let value = modelParameters[index][spec.name]?.number ?? spec.defaultValue?.number else {
            throw invalid(method, "input \(index) has no value for `\(spec.name)`")
        }
        return value
    }

    /// The global number `spec`, else its default.
    func number(_ method: String, _ spec: ParameterSpec) throws(MergeError) -> Double {
        guard let value = parameters[spec.name]?.number ?? spec.defaultValue?.number else {
            throw invalid(method, "no value for `\(spec.name)`")
        }
        return value
    }

    /// The global flag `spec`, else its default.
    func bool(_ method: String, _ spec: ParameterSpec) throws(MergeError) -> Bool {
        guard let value = parameters[spec.name]?.bool ?? spec.defaultValue?.bool else {
            throw invalid(method, "no value for `\(spec.name)`")
        }
        return value
    }
}
