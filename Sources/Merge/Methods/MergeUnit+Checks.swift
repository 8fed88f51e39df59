/// Input checks and parameter look-ups shared by the merge methods: parameters are read one way,
/// through their specs (a missing required value is an error, never a silent 0).
extension MergeUnit {
    /// The error for inputs this method cannot merge.
    func invalid(_ method: String, _ reason: String) -> MergeError {
        .invalidInputs(method: method, tensor: name, reason: reason)
    }

    /// Checks that there are inputs, one parameter set per input, and a base index in range.
    func checkInputs(_ method: String) throws(MergeError) {
        if inputCount == 0 { throw invalid(method, "no inputs") }
        if modelParameters.count != inputCount {
            throw invalid(method, "\(modelParameters.count) parameter sets for \(inputCount) inputs")
        }
        if let base = baseIndex, !(0 ..< inputCount).contains(base) {
            throw invalid(method, "base index \(base) is out of range for \(inputCount) inputs")
        }
    }

    /// The indices of the inputs that are not the base, in input order.
    var nonBaseIndices: [Int] { (0 ..< inputCount).filter { $0 != baseIndex } }

    /// The base index, or the method's "requires a base model" error.
    func requireBase(_ method: String) throws(MergeError) -> Int {
        guard let baseIndex else { throw invalid(method, "requires a base model") }
        return baseIndex
    }

    /// Input `index`'s value of the per-model number `spec`, else the spec's default.
    func number(_ method: String, _ spec: ParameterSpec, input index: Int) throws(MergeError) -> Double {
        guard let value = spec.number(in: modelParameters[index]) else {
            throw invalid(method, "input \(index) has no value for `\(spec.name)`")
        }
        return value
    }

    /// The global number `spec`, else its default.
    func number(_ method: String, _ spec: ParameterSpec) throws(MergeError) -> Double {
        guard let value = spec.number(in: parameters) else { throw invalid(method, "no value for `\(spec.name)`") }
        return value
    }

    /// The global flag `spec`, else its default.
    func bool(_ method: String, _ spec: ParameterSpec) throws(MergeError) -> Bool {
        guard let value = spec.bool(in: parameters) else { throw invalid(method, "no value for `\(spec.name)`") }
        return value
    }
}
