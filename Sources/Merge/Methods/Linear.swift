/// mergekit's `linear`: the weighted average of the inputs (Wortsman et al., "Model soups",
/// arXiv:2203.05482).
///
/// `result = Σ wᵢ·xᵢ`, divided by `Σ wᵢ` when `normalize`. As mergekit: the weights are rounded to
/// float32 first, `Σ wᵢ` is a float32 sum in input order, the products are accumulated in float32 in
/// input order, then divided, so the result agrees with mergekit's bit for bit up to its vectorized
/// kernels' rounding.
///
/// Parameters: per model `weight` (required; every input has one, mergekit's scope is all inputs:
/// a base model listed among `models` is an ordinary input), global `normalize` (true).
///
/// Difference: with `normalize` and weights summing to exactly zero, mergekit divides by zero (the
/// output is inf/NaN); this method throws instead.
public struct Linear: MergeMethod {
    public init() {}

    public var name: String { "linear" }
    public var basePolicy: BaseModelPolicy { .ignored }
    public var parameters: [ParameterSpec] {
        [ParameterSpec("weight", .number, .perModel, default: nil),
         ParameterSpec("normalize", .bool, .global, default: .bool(true))]
    }

    static let blockSize = 4096

    /// Elementwise: large tensors may stream through in row chunks.
    public var isRowLocal: Bool { true }

    /// One input weighted and every other weight 0 gives that input exactly (normalized, or weight 1).
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? {
        let weights = modelParameters.map { $0.number("weight") }
        let nonzero = weights.indices.filter { weights[$0] != 0 }
        guard nonzero.count == 1, let only = nonzero.first,
              parameters.bool("normalize") || weights[only] == 1 else { return nil }
        return only
    }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let n = try MethodInputs.elementCount(input, output: output, method: name)
        var weights: [Float] = []
        for index in input.tensors.indices {
            weights.append(Float(try MethodInputs.finite("weight", of: index, input, method: name)))
        }
        let normalize = input.parameters.bool("normalize")
        var total: Float = 0
        for w in weights { total += w }
        if normalize && total == 0 {
            throw .invalidInputs(method: name, tensor: input.name,
                                 reason: "weights sum to 0: cannot normalize (set normalize: false)")
        }
        guard n > 0, let out = output.baseAddress else { return }
        var start = 0
        while start < n {
            let count = min(Self.blockSize, n - start)
            let o = out + start
            for j in 0 ..< count { o[j] = 0 }
            for (tensor, w) in zip(input.tensors, weights) {
                let x = tensor.baseAddress! + start
                for j in 0 ..< count { o[j] += x[j] * w }
            }
            if normalize {
                for j in 0 ..< count { o[j] = o[j] / total }
            }
            start += count
        }
    }
}
