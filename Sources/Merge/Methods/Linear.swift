/// mergekit's `linear`: the weighted sum of the inputs, divided by the sum of the weights when
/// `normalize` is true (the default).
///
/// Parameters: `weight` (per model, required; with no base policy every input, a listed base
/// included, needs one), `normalize` (global, default true). The base model is not special: it is
/// merged like any other input if the plan passes it. Any number of inputs ≥ 1.
///
/// Math as mergekit 0.1.5's `linear_merge` in float32: weights rounded to float32,
/// `result = 0; result += tensor·weight` in input order, then `result / Σ weight` (the sum in
/// float32, in input order). Exact up to float32 rounding of the same operations.
/// Unlike mergekit (which writes inf/NaN), normalizing weights that sum to zero is an error.
public struct Linear: MergeMethod {
    public init() {}

    public let name = "linear"
    static let weight = ParameterSpec("weight", .number, .perModel, default: nil)
    static let normalize = ParameterSpec("normalize", .bool, .global, default: .bool(true))
    public var parameters: [ParameterSpec] { [Self.weight, Self.normalize] }
    public var basePolicy: BaseModelPolicy { .ignored }

    /// Equal inputs give that input when the weights are normalized or add up to 1.
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool {
        let weights = modelParameters.map { Self.weight.number(in: $0) }
        return Self.normalize.bool(in: parameters) == true || weights.reduce(0.0) { $0 + ($1 ?? .nan) } == 1
    }

    /// One input weighted and every other weight 0 gives that input exactly (normalized, or weight 1).
    public func exactInput(parameters: Parameters, modelParameters: [Parameters], baseIndex: Int?) -> Int? {
        let weights = modelParameters.map { Self.weight.number(in: $0) }
        let nonzero = weights.indices.filter { weights[$0] != 0 }
        guard nonzero.count == 1, let only = nonzero.first,
              Self.normalize.bool(in: parameters) == true || weights[only] == 1 else { return nil }
        return only
    }

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        var weights: [Float] = []
        for index in 0 ..< unit.inputCount {
            weights.append(Float(try unit.number(name, Self.weight, input: index)))
        }
        var denominator: Float = 1
        if try unit.bool(name, Self.normalize) {
            denominator = 0
            for weight in weights { denominator += weight }
            if denominator == 0 || !denominator.isFinite {
                throw unit.invalid(name, "weights sum to \(denominator); cannot normalize (set `normalize: false`)")
            }
        }
        return Merge(weights: weights, denominator: denominator)
    }

    /// The weighted sum, elementwise.
    struct Merge: RowLocalMerge {
        var weights: [Float]
        /// Σ weight, or 1 when not normalizing (`x / 1 == x`).
        var denominator: Float

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            if piece.inputs.count == 2 {
                // The usual case in one pass, with the same operations in the same order.
                let x = piece.inputs[0], y = piece.inputs[1], wx = weights[0], wy = weights[1], d = denominator
                if d == 1 {
                    for i in output.indices { output[i] = (0 + x[i] * wx) + y[i] * wy }
                } else {
                    for i in output.indices { output[i] = ((0 + x[i] * wx) + y[i] * wy) / d }
                }
                return
            }
            for i in output.indices { output[i] = 0 }
            for (tensor, weight) in zip(piece.inputs, weights) {
                for i in output.indices { output[i] = output[i] + tensor[i] * weight }
            }
            if denominator != 1 {
                for i in output.indices { output[i] = output[i] / denominator }
            }
        }
    }
}
