import Foundation

/// mergekit's `arcee_fusion`: keeps the other model's value only where its importance (the change
/// `|other − base|` times the row's KL divergence between the two models' softmaxes) is an outlier.
///
/// No parameters. Inputs: exactly two, one the base (mergekit's contract: base required,
/// `min_inputs = max_inputs = 2`).
///
/// As mergekit 0.1.5's `arcee_fusion_merge_method` in float32: per ggml row (torch's last dim),
/// `p = softmax(other) + 1e-8`, `q = softmax(base) + 1e-8`, `kl = Σ p·log(p/q)`; importance
/// `|other − base|·kl`; threshold `median + 1.5·(q3 − q1)` with the quartiles read from the sorted
/// importances at index `⌊q·(n−1)⌋`; the result is `base + (other − base)·[importance ≥ threshold]`.
/// For tensors above 1,000,000 elements mergekit takes the quartiles of 1,000,000 values sampled with
/// replacement by torch's generator; here the sample comes from `MergeInput.seed` (same estimator, not
/// the same draws). Softmax sums and the KL sum are accumulated in `Double` and rounded to float32.
/// When the two models are close, the row KL is tiny and its float32 value carries rounding noise of
/// up to ~0.5 % (torch's own result depends on the CPU's vector width), so an element whose importance
/// lies that close to the threshold may be kept where mergekit drops it or the reverse: measured on
/// the merge fixtures' tensors, 2 of 2,048 and 2 of 8,192 elements; every other element is identical.
public struct ArceeFusion: MergeMethod {
    public init() {}

    public let name = "arcee_fusion"
    public var parameters: [ParameterSpec] { [] }
    public var basePolicy: BaseModelPolicy { .required }

    /// Equal inputs give that input (zero task vectors, or a mean of equal points).
    public func keepsAgreeingInputs(parameters: Parameters, modelParameters: [Parameters]) -> Bool { true }

    /// mergekit's `_QUANTILE_SAMPLE_SIZE`.
    static let quantileSampleSize = 1_000_000

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        try input.checkSizes(name, output: output)
        guard let baseIndex = input.baseIndex else { throw input.invalid(name, "requires a base model") }
        if input.tensors.count != 2 {
            throw input.invalid(name, "requires exactly 2 inputs (the base and one other model); got \(input.tensors.count)")
        }
        let base = input.tensors[baseIndex], other = input.tensors[1 - baseIndex]
        let rowLength = input.rowLength
        guard rowLength > 0, !output.isEmpty else { return }
        let rows = output.count / rowLength

        // Importance, into `output`.
        var p = [Float](repeating: 0, count: rowLength), q = p
        p.withUnsafeMutableBufferPointer { p in
            q.withUnsafeMutableBufferPointer { q in
                for r in 0 ..< rows {
                    let start = r &* rowLength
                    let range = start ..< start &+ rowLength
                    Self.softmaxPlusEps(UnsafeBufferPointer(rebasing: other[range]), into: p)
                    Self.softmaxPlusEps(UnsafeBufferPointer(rebasing: base[range]), into: q)
                    var kl = 0.0
                    for k in 0 ..< rowLength { kl += Double(p[k] * Float(log(Double(p[k] / q[k])))) }
                    let klRow = Float(kl)
                    for e in range { output[e] = abs(other[e] - base[e]) * klRow }
                }
            }
        }

        // Quartiles of the importances (or of a seeded sample of them).
        var sample: [Float]
        if output.count > Self.quantileSampleSize {
            var generator = SplitMix64(seed: input.seed)
            sample = (0 ..< Self.quantileSampleSize).map { _ in
                output[Int(generator.next(below: UInt64(output.count)))]
            }
        } else {
            sample = Array(output)
        }
        // torch.sort puts NaNs last.
        sample.sort { $0 < $1 || ($1.isNaN && !$0.isNaN) }
        func quantile(_ q: Float) -> Float {
            sample[Int(q * Float(sample.count - 1))]
        }
        let q1 = quantile(0.25), median = quantile(0.5), q3 = quantile(0.75)
        let threshold = median + 1.5 * (q3 - q1)

        for i in output.indices {
            let mask: Float = output[i] >= threshold ? 1 : 0
            output[i] = base[i] + (other[i] - base[i]) * mask
        }
    }

    /// `softmax(x) + 1e-8` as torch's float32 kernel: `exp(x − max)`, times the reciprocal of the sum.
    static func softmaxPlusEps(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        var maximum = -Float.infinity
        for v in x { maximum = v > maximum ? v : maximum }
        var sum = 0.0
        for k in x.indices {
            let e = Float(exp(Double(x[k] - maximum)))
            out[k] = e
            sum += Double(e)
        }
        let scale = 1 / Float(sum)
        for k in x.indices { out[k] = out[k] * scale + 1e-8 }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator for sampling.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0 ..< bound` (Lemire's multiply-shift; the bias is below 2⁻⁴⁰ for bounds < 2²⁴).
    mutating func next(below bound: UInt64) -> UInt64 {
        next().multipliedFullWidth(by: bound).high
    }
}
