/// mergekit's `model_stock`: interpolates between the base and the average of the other models by
/// a ratio derived from the angle between their task vectors (Jang et al., "Model Stock",
/// arXiv:2403.19522).
///
/// With base `w0` and the other inputs `w1 … wN` (N ≥ 2), for each vector (the whole tensor, or
/// with `filter_wise` each row: mergekit's last dimension, a ggml row):
/// 1. offsets `dᵢ = wᵢ − w0` (float32);
/// 2. for each pair i < j: `cosᵢⱼ = ⟨dᵢ, dⱼ⟩ / max(‖dᵢ‖·‖dⱼ‖, 1e-6)`, clamped to [−1, 1];
///    `cos θ` = their mean;
/// 3. `t = N·cos θ / (1 + (N − 1)·cos θ)`, or 0 when `|1 + (N − 1)·cos θ| < 1e-6` (keep the base);
/// 4. `result = t·avg + (1 − t)·w0` with `avg = (w1 + … + wN) / N` (float32, in input order).
///
/// Precision: norms and dot products are accumulated in double (mergekit: float32); the rest is
/// float32 in mergekit's order.
///
/// Parameters: global `filter_wise` (false). Requires a base model and at least two other inputs.
public struct ModelStock: MergeMethod {
    public init() {}

    public var name: String { "model_stock" }
    public var basePolicy: BaseModelPolicy { .required }
    public var parameters: [ParameterSpec] { [ParameterSpec("filter_wise", .bool, .global, default: .bool(false))] }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let n = try MethodInputs.elementCount(input, output: output, method: name)
        let baseIndex = try MethodInputs.requiredBase(input, method: name)
        let others = MethodInputs.nonBase(input)
        try MethodInputs.expect(input.tensors.count, 3, exactly: false, "inputs (the base and two others)",
                                input: input, method: name)
        guard n > 0 else { return }
        let w0 = UnsafePointer(input.tensors[baseIndex].baseAddress!)
        let ws = others.map { UnsafePointer(input.tensors[$0].baseAddress!) }
        let out = output.baseAddress!
        let length = input.parameters.bool("filter_wise") ? max(input.rowLength, 1) : n
        var gram = [Double](repeating: 0, count: ws.count * ws.count)
        var start = 0
        while start < n {
            let count = min(length, n - start)
            let t = gram.withUnsafeMutableBufferPointer { gram in
                Self.ratio(base: w0, ws, offset: start, count: count, gram: gram.baseAddress!)
            }
            Self.interpolate(t: t, base: w0, ws, offset: start, count: count, into: out)
            start += count
        }
    }

    /// mergekit's `t` for one vector: from the pairwise cosines of the offsets `wᵢ − w0`.
    static func ratio(base: UnsafePointer<Float>, _ ws: [UnsafePointer<Float>], offset: Int, count: Int,
                      gram: UnsafeMutablePointer<Double>) -> Float {
        let base = base + offset
        let m = ws.count
        // gram[i·m + j] = ⟨dᵢ, dⱼ⟩ for i ≤ j, with dᵢ rounded to float32 as mergekit's offsets are.
        for i in 0 ..< m {
            for j in i ..< m {
                let x = ws[i] + offset, y = ws[j] + offset
                var sum = 0.0
                for k in 0 ..< count { sum += Double(x[k] - base[k]) * Double(y[k] - base[k]) }
                gram[i * m + j] = sum
            }
        }
        var cosineSum: Float = 0
        var pairs = 0
        for i in 0 ..< m {
            for j in (i + 1) ..< m {
                let product = Float(gram[i * m + i].squareRoot()) * Float(gram[j * m + j].squareRoot())
                let cosine = Float(gram[i * m + j]) / max(product, 1e-6)
                cosineSum += min(max(cosine, -1), 1)
                pairs += 1
            }
        }
        let cosTheta = cosineSum / Float(pairs)
        let denominator = 1 + Float(m - 1) * cosTheta
        if abs(denominator) < 1e-6 { return 0 }
        return Float(m) * cosTheta / denominator
    }

    /// `t·avg + (1 − t)·base`, `avg = (w1 + … + wN) / N`, elementwise in float32.
    static func interpolate(t: Float, base: UnsafePointer<Float>, _ ws: [UnsafePointer<Float>], offset: Int,
                            count: Int, into out: UnsafeMutablePointer<Float>) {
        let n = Float(ws.count), s = 1 - t
        let base = base + offset, out = out + offset, first = ws[0] + offset
        for k in 0 ..< count { out[k] = first[k] }
        for index in 1 ..< ws.count {
            let w = ws[index] + offset
            for k in 0 ..< count { out[k] = out[k] + w[k] }
        }
        for k in 0 ..< count { out[k] = t * (out[k] / n) + s * base[k] }
    }
}
