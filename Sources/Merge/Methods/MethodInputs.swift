/// Input checks and double-precision reductions shared by the geometric methods (`linear`, `slerp`,
/// `nuslerp`, `multislerp`, `karcher`, `model_stock`, `nearswap`, `arcee_fusion`, `passthrough`).
enum MethodInputs {
    /// Checks that every input and the output have the same element count and that the per-input
    /// parameters are parallel to the inputs; returns the element count.
    static func elementCount(_ input: MergeInput, output: UnsafeMutableBufferPointer<Float>,
                             method: String) throws(MergeError) -> Int {
        guard let first = input.tensors.first else {
            throw .invalidInputs(method: method, tensor: input.name, reason: "no inputs")
        }
        guard input.modelParameters.count == input.tensors.count else {
            throw .invalidInputs(method: method, tensor: input.name,
                                 reason: "\(input.tensors.count) inputs but \(input.modelParameters.count) parameter sets")
        }
        let n = first.count
        for (index, tensor) in input.tensors.enumerated() where tensor.count != n {
            throw .invalidInputs(method: method, tensor: input.name,
                                 reason: "input \(index) has \(tensor.count) elements, input 0 has \(n)")
        }
        guard output.count == n else {
            throw .invalidInputs(method: method, tensor: input.name,
                                 reason: "output has \(output.count) elements, the inputs \(n)")
        }
        if let baseIndex = input.baseIndex, !input.tensors.indices.contains(baseIndex) {
            throw .invalidInputs(method: method, tensor: input.name,
                                 reason: "base index \(baseIndex) is not one of the \(input.tensors.count) inputs")
        }
        return n
    }

    /// The base's index, for methods that require one.
    static func requiredBase(_ input: MergeInput, method: String) throws(MergeError) -> Int {
        guard let baseIndex = input.baseIndex else {
            throw .invalidInputs(method: method, tensor: input.name, reason: "requires a base model")
        }
        return baseIndex
    }

    /// The indices of the inputs other than the base, in input order (mergekit's `non_base`).
    static func nonBase(_ input: MergeInput) -> [Int] {
        input.tensors.indices.filter { $0 != input.baseIndex }
    }

    /// Throws unless there are exactly (or at least) `count` inputs of the kind `what`.
    static func expect(_ actual: Int, _ count: Int, exactly: Bool = true, _ what: String, input: MergeInput,
                       method: String) throws(MergeError) {
        if exactly ? actual != count : actual < count {
            throw .invalidInputs(method: method, tensor: input.name,
                                 reason: "requires \(exactly ? "exactly" : "at least") \(count) \(what), got \(actual)")
        }
    }

    /// The per-input number `name` of input `index`, which must be finite.
    static func finite(_ name: String, of index: Int, _ input: MergeInput, method: String) throws(MergeError) -> Double {
        let value = input.modelParameters[index].number(name)
        guard value.isFinite else {
            throw .invalidInputs(method: method, tensor: input.name, reason: "input \(index): \(name) is not finite")
        }
        return value
    }
}

/// Dot products and norms of float32 vectors, accumulated in double.
///
/// mergekit reduces in float32 with torch's blocked (pairwise-like) summation; accumulating in
/// double gives the exact sum to within double rounding, which differs from torch's result by float
/// rounding only. Four partial sums break the dependency chain.
enum Reductions {
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var j = 0
        while j &+ 4 <= count {
            s0 += Double(x[j]) * Double(y[j])
            s1 += Double(x[j &+ 1]) * Double(y[j &+ 1])
            s2 += Double(x[j &+ 2]) * Double(y[j &+ 2])
            s3 += Double(x[j &+ 3]) * Double(y[j &+ 3])
            j &+= 4
        }
        while j < count {
            s0 += Double(x[j]) * Double(y[j])
            j &+= 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        dot(x, x, count: count)
    }

    /// ‖x‖₂ rounded to float32, as `torch.linalg.vector_norm` of a float32 tensor returns it.
    static func norm(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Float(sumOfSquares(x, count: count).squareRoot())
    }
}
