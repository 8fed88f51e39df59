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

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        let base = try unit.requireBase(name)
        if unit.inputCount < 3 {
            throw unit.invalid(name, "requires at least 3 inputs (the base and 2 models); got \(unit.inputCount)")
        }
        return Merge(base: base, models: unit.nonBaseIndices, filterWise: try unit.bool(name, Self.filterWise))
    }

    /// One statistics pass over the whole tensor (squared norms and pairwise dots of the offsets), or
    /// none with `filter_wise` (each row is its own vector); then `t·(Σ wᵢ)/k + (1−t)·w₀`.
    struct Merge: UnitMerge {
        var base: Int
        var models: [Int]
        var filterWise: Bool
        /// `Σ oᵢ²` at `i·k + i` and `Σ oᵢ·oⱼ` at `i·k + j` (i < j), as they accumulate.
        var sums: [Double]
        var t: Float? = nil

        init(base: Int, models: [Int], filterWise: Bool) {
            self.base = base
            self.models = models
            self.filterWise = filterWise
            sums = [Double](repeating: 0, count: models.count * models.count)
        }

        var needsPass: Bool { !filterWise && t == nil }

        /// The offsets' squares and pairwise dots over `range` of a piece. The offsets `model − base`
        /// are recomputed in float32 where needed (the average needs the models themselves).
        func products(_ piece: RowPiece, _ range: Range<Int>) -> [Double] {
            let count = models.count
            let b = piece.inputs[base]
            var products = [Double](repeating: 0, count: count * count)
            for i in 0 ..< count {
                let a = piece.inputs[models[i]]
                var s = 0.0
                for e in range { let d = a[e] - b[e]; s += Double(d * d) }
                products[i &* count &+ i] = s
                for j in i + 1 ..< count {
                    let c = piece.inputs[models[j]]
                    var p = 0.0
                    for e in range { p += Double((a[e] - b[e]) * (c[e] - b[e])) }
                    products[i &* count &+ j] = p
                }
            }
            return products
        }

        /// mergekit's interpolation factor from the offsets' products.
        func ratio(_ products: [Double]) -> Float {
            let count = models.count
            let norms = (0 ..< count).map { Float(products[$0 &* count &+ $0].squareRoot()) }
            var cosSum: Float = 0
            var pairs = 0
            for i in 0 ..< count {
                for j in i + 1 ..< count {
                    let product = max(norms[i] * norms[j], 1e-6)
                    let cosine = min(max(Float(products[i &* count &+ j]) / product, -1), 1)
                    cosSum = cosSum + cosine
                    pairs += 1
                }
            }
            let cosTheta = cosSum / Float(pairs)
            let denominator = 1 + Float(count - 1) * cosTheta
            return abs(denominator) < 1e-6 ? 0 : (Float(count) * cosTheta) / denominator
        }

        func statistics(_ piece: RowPiece) -> [Double] { products(piece, 0 ..< piece.count) }

        mutating func accumulate(_ partial: [Double]) {
            for i in sums.indices { sums[i] += partial[i] }
        }

        mutating func finishPass() { t = ratio(sums) }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            let length = filterWise ? piece.rowLength : piece.count
            let kFloat = Float(models.count)
            let b = piece.inputs[base]
            for start in stride(from: 0, to: piece.count, by: max(length, 1)) {
                let range = start ..< start + length
                let t = self.t ?? ratio(products(piece, range))
                let oneMinusT = 1 - t
                for e in range {
                    var sum: Float = 0
                    for m in models { sum = sum + piece.inputs[m][e] }
                    output[e] = t * (sum / kFloat) + oneMinusT * b[e]
                }
            }
        }
    }
}
