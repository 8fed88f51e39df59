/// mergekit's `sce` (Select, Calculate, Erase; Wan et al., arXiv:2408.07990), from
/// `mergekit/merge_methods/sce.py`.
///
/// With base `b` and task vectors `d_i = x_i − b`:
/// 1. Select: if `select_topk < 1`, keep only the elements whose variance across the task vectors
///    (population variance) is among the `k = int(count_nonzero(var) · select_topk)` largest
///    (none when k = 0 or `select_topk <= 0`), in every task vector;
/// 2. Calculate: `w_i = mean(d_i²)`, normalised to sum 1 (`1/N` each when the sum is below 1e-6);
/// 3. Erase: elect each element's sign from the unweighted sum of the task vectors (as TIES'
///    `sum` election); result `b + Σ_agreeing d_i·w_i / max(Σ_agreeing w_i, 1e-6)`.
///
/// Parameters (global only, as mergekit declares them): `int8_mask` (false; changes only the mask
/// dtype, so it is accepted and ignored) and `select_topk` (1). mergekit's `sce` takes no
/// per-model weight.
///
/// Exactness: float32 in mergekit's order except the variance (torch uses Welford's update, here
/// two passes), the mean of squares (summed in double) and the selection's tie order; these can
/// move an element across the top-k threshold only when variances tie to within float rounding.
public struct SCE: MergeMethod {
    public init() {}

    public var name: String { "sce" }
    public var basePolicy: BaseModelPolicy { .required }

    /// Equal inputs give that input (zero task vectors, or a mean of equal points).
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }
    public var parameters: [ParameterSpec] {
        [
            ParameterSpec("int8_mask", .bool, .global, default: .bool(false)),
            ParameterSpec("select_topk", .number, .global, default: .number(1)),
        ]
    }

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let (baseIndex, others) = try TaskVectors.validate(input, output: output, method: name)
        let base = input.tensors[baseIndex]
        let n = base.count
        if others.isEmpty {
            _ = output.update(fromContentsOf: base)
            return
        }
        if n == 0 { return }
        let topK = input.parameters.number("select_topk")
        guard topK.isFinite else {
            throw .invalidInputs(method: name, tensor: input.name, reason: "select_topk is not finite")
        }
        let vectors = others.map { input.tensors[$0].baseAddress! }
        for index in others { TaskVectors.subtract(base, from: input.tensors[index]) }
        let b = base.baseAddress!, out = output.baseAddress!

        // Select (the output buffer holds the variances meanwhile).
        if topK < 1 {
            if topK <= 0 {
                for d in vectors { for j in 0 ..< n { d[j] = d[j] * 0 } }
            } else {
                Self.variance(vectors, count: n, into: out)
                var nonzero = 0
                for j in 0 ..< n where out[j] != 0 { nonzero += 1 }
                // `int(count_nonzero(var) * density)`: an int64 tensor times a float → float32.
                let k = Sparsify.truncatedCount(Double(Float(nonzero) * Float(topK)), limit: n)
                if k <= 0 {
                    for d in vectors { for j in 0 ..< n { d[j] = d[j] * 0 } }
                } else {
                    MagnitudeSelection.keepDescendingRanks(output, 0 ..< k)
                    for d in vectors {
                        for j in 0 ..< n { d[j] = d[j] * (out[j] != 0 ? 1 : 0) }
                    }
                }
            }
        }

        // Calculate: mean of squares per task vector, normalised.
        var weights = vectors.map { d -> Float in
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            var j = 0
            while j &+ 4 <= n {
                s0 += Double(d[j] * d[j]); s1 += Double(d[j &+ 1] * d[j &+ 1])
                s2 += Double(d[j &+ 2] * d[j &+ 2]); s3 += Double(d[j &+ 3] * d[j &+ 3])
                j &+= 4
            }
            while j < n { s0 += Double(d[j] * d[j]); j &+= 1 }
            return Float((s0 + s1) + (s2 + s3)) / Float(n)
        }
        var weightSum: Float = 0
        for w in weights { weightSum += w }
        if abs(weightSum) < Float(1e-6) {
            weights = weights.map { _ in Float(1) / Float(weights.count) }
        } else {
            weights = weights.map { $0 / weightSum }
        }

        // Erase: elect on the unweighted sum, then the weighted mean of the agreeing vectors.
        let unweighted = vectors.map { WeightedDelta(values: $0, scale: 1, weight: 1) }
        let floor = Float(1e-6)
        let block = GeneralizedTaskArithmetic.blockSize
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { scratch in
            let majority = scratch.baseAddress!, divisor = scratch.baseAddress! + block
            var start = 0
            while start < n {
                let count = min(block, n - start)
                Consensus.elect(.sum, unweighted, start: start, count: count, into: majority)
                let mixed = out + start
                for j in 0 ..< count {
                    mixed[j] = 0
                    divisor[j] = 0
                }
                for (d, w) in zip(vectors, weights) {
                    let x = d + start
                    for j in 0 ..< count {
                        let v = x[j], m = majority[j]
                        let erased = w * ((v > 0 && m > 0) || (v < 0 && m < 0) ? 1 : 0)
                        mixed[j] += v * erased
                        divisor[j] += erased
                    }
                }
                for j in 0 ..< count {
                    // `clamp(min=1e-6)` keeps NaN.
                    let d = divisor[j]
                    mixed[j] = b[start &+ j] + mixed[j] / (d < floor ? floor : d)
                }
                start += count
            }
        }
    }

    /// Population variance across `vectors` per element (`torch.var(dim=0, unbiased=False)`).
    static func variance(_ vectors: [UnsafeMutablePointer<Float>], count n: Int, into out: UnsafeMutablePointer<Float>) {
        let inputs = Float(vectors.count)
        for j in 0 ..< n { out[j] = 0 }
        for d in vectors { for j in 0 ..< n { out[j] += d[j] } }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: min(n, 4096)) { mean in
            var start = 0
            while start < n {
                let count = min(mean.count, n - start)
                for j in 0 ..< count {
                    mean[j] = out[start &+ j] / inputs
                    out[start &+ j] = 0
                }
                for d in vectors {
                    for j in 0 ..< count {
                        let e = d[start &+ j] - mean[j]
                        out[start &+ j] += e * e
                    }
                }
                for j in 0 ..< count { out[start &+ j] = out[start &+ j] / inputs }
                start += count
            }
        }
    }
}
