/// mergekit's `model_stock`: interpolates between the base model and the average of the models by a
/// ratio derived from the angle between their task vectors.
///
/// Parameters: `filter_wise` (global, default false: one ratio for the whole tensor; true: one per
/// ggml row, torch's last dim). Inputs: the base (required) and at least two other models (mergekit's
/// contract: base required, `min_inputs = 3`).
///
/// As mergekit 0.1.5's `model_stock_merge_method` in float32: with offsets `oᵢ = wᵢ − w₀`, `cos θ` is
/// the mean over pairs `i < j` of `(oᵢ·oⱼ) / max(‖oᵢ‖·‖oⱼ‖, 1e-6)` clamped to [-1, 1];
/// `t = k·cos θ / (1 + (k−1)·cos θ)` for k models (t = 0 when the denominator is below 1e-6 in
/// magnitude), and the result is `t·(Σ wᵢ)/k + (1−t)·w₀`. Dots and norms are summed in `Double`
/// from the float32 offsets and rounded to float32.
public struct ModelStock: MergeMethod {
    public init() {}

    public let name = "model_stock"
    static let filterWise = ParameterSpec("filter_wise", .bool, .global, default: .bool(false))
    public var parameters: [ParameterSpec] { [Self.filterWise] }
    public var basePolicy: BaseModelPolicy { .required }

    /// Equal inputs give that input (zero task vectors, or a mean of equal points).
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        try input.checkSizes(name, output: output)
        guard let baseIndex = input.baseIndex else { throw input.invalid(name, "requires a base model") }
        if input.tensors.count < 3 {
            throw input.invalid(name, "requires at least 3 inputs (the base and 2 models); got \(input.tensors.count)")
        }
        let filterWise = try input.bool(name, Self.filterWise)
        let base = input.tensors[baseIndex]
        let models = input.nonBaseIndices.map { input.tensors[$0] }
        let count = models.count
        // The offsets `model − base` are recomputed in float32 where needed (the average needs the
        // models themselves), so the inputs stay untouched.
        let rowLength = filterWise ? input.rowLength : output.count
        let rows = rowLength == 0 ? 0 : output.count / rowLength
        let kFloat = Float(count)

        var squares = [Double](repeating: 0, count: count)
        var dots = [Double](repeating: 0, count: count * count)
        for r in 0 ..< rows {
            let start = r &* rowLength, end = start &+ rowLength
            for k in 0 ..< count { squares[k] = 0 }
            for k in 0 ..< count * count { dots[k] = 0 }
            for i in 0 ..< count {
                let a = models[i]
                var s = 0.0
                for e in start ..< end { let d = a[e] - base[e]; s += Double(d * d) }
                squares[i] = s
                for j in i + 1 ..< count {
                    let b = models[j]
                    var p = 0.0
                    for e in start ..< end { p += Double((a[e] - base[e]) * (b[e] - base[e])) }
                    dots[i &* count &+ j] = p
                }
            }
            let norms = squares.map { Float($0.squareRoot()) }
            var cosSum: Float = 0
            var pairs = 0
            for i in 0 ..< count {
                for j in i + 1 ..< count {
                    let product = max(norms[i] * norms[j], 1e-6)
                    let cosine = min(max(Float(dots[i &* count &+ j]) / product, -1), 1)
                    cosSum = cosSum + cosine
                    pairs += 1
                }
            }
            let cosTheta = cosSum / Float(pairs)
            let denominator = 1 + Float(count - 1) * cosTheta
            let t: Float = abs(denominator) < 1e-6 ? 0 : (kFloat * cosTheta) / denominator
            let oneMinusT = 1 - t
            for e in start ..< end {
                var sum: Float = 0
                for m in models { sum = sum + m[e] }
                output[e] = t * (sum / kFloat) + oneMinusT * base[e]
            }
        }
    }
}
