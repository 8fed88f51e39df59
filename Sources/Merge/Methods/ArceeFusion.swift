import Foundation

/// mergekit's `arcee_fusion`: keeps the other model's changes only where they are important
/// (Arcee's "Fusion").
///
/// With base `b` and the other input `p`:
/// 1. per row (mergekit's last dimension, a ggml row): `P = softmax(p_row) + 1e-8`,
///    `Q = softmax(b_row) + 1e-8`, `kl = Σ P·log(P/Q)`;
/// 2. importance `s = |p − b|·kl` (elementwise, the row's `kl`);
/// 3. `threshold = median + 1.5·(q3 − q1)` over the importances, where the quartile `q` is element
///    `⌊q·(m − 1)⌋` (float32 product, truncated) of the `m` sorted importances;
/// 4. `result = b + (p − b)·[s ≥ threshold]`.
///
/// Above 1,000,000 elements mergekit estimates the quartiles from 1,000,000 elements drawn with
/// replacement by torch's generator; this method draws them the same way from ``RandomStream`` with
/// `MergeInput.seed`, so the threshold (hence the result) differs from mergekit's run to run as
/// mergekit's own does, with the same distribution. At or below that size it is deterministic.
///
/// Precision: softmax sums, `kl` sums are accumulated in double; elementwise operations are float32
/// (transcendentals evaluated in double and rounded).
///
/// Parameters: none. Requires a base model and exactly one other input.
public struct ArceeFusion: MergeMethod {
    public init() {}

    public var name: String { "arcee_fusion" }
    public var basePolicy: BaseModelPolicy { .required }
    public var parameters: [ParameterSpec] { [] }

    /// mergekit's `_QUANTILE_SAMPLE_SIZE`.
    static let sampleSize = 1_000_000

    public func merge(_ input: MergeInput, into output: UnsafeMutableBufferPointer<Float>) throws(MergeError) {
        let n = try MethodInputs.elementCount(input, output: output, method: name)
        let baseIndex = try MethodInputs.requiredBase(input, method: name)
        try MethodInputs.expect(input.tensors.count, 2, "inputs (the base and one other)", input: input, method: name)
        guard n > 0 else { return }
        let b = input.tensors[baseIndex].baseAddress!, p = input.tensors[1 - baseIndex].baseAddress!
        let importance = output.baseAddress!
        let length = max(input.rowLength, 1)

        var scratch = [Float](repeating: 0, count: 2 * length)
        scratch.withUnsafeMutableBufferPointer { scratch in
            let pSoft = scratch.baseAddress!, qSoft = pSoft + length
            var row = 0
            while row < n {
                let count = min(length, n - row)
                Self.softmax(p + row, count: count, into: pSoft)
                Self.softmax(b + row, count: count, into: qSoft)
                var sum = 0.0
                for j in 0 ..< count {
                    let ratio = Float(log(Double(pSoft[j] / qSoft[j])))
                    sum += Double(pSoft[j] * ratio)
                }
                let kl = Float(sum)
                for j in 0 ..< count { importance[row + j] = abs(p[row + j] - b[row + j]) * kl }
                row += count
            }
        }

        let threshold = Self.threshold(UnsafeBufferPointer(start: importance, count: n), seed: input.seed)
        for j in 0 ..< n {
            let mask: Float = importance[j] >= threshold ? 1 : 0
            importance[j] = b[j] + (p[j] - b[j]) * mask
        }
    }

    /// `softmax(x) + 1e-8` in float32 (max subtracted, exponentials summed in double).
    static func softmax(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        var maximum = -Float.infinity
        for j in 0 ..< count { maximum = max(maximum, x[j]) }
        var sum = 0.0
        for j in 0 ..< count {
            let e = Float(exp(Double(x[j] - maximum)))
            out[j] = e
            sum += Double(e)
        }
        let total = Float(sum)
        for j in 0 ..< count { out[j] = out[j] / total + 1e-8 }
    }

    /// `median + 1.5·(q3 − q1)` of `values` (or of a sample of `sampleSize` of them, with replacement).
    static func threshold(_ values: UnsafeBufferPointer<Float>, seed: UInt64) -> Float {
        var sorted: [Float]
        if values.count > sampleSize {
            let stream = RandomStream(seed: seed, stream: 0)
            let n = UInt64(values.count)
            sorted = (0 ..< sampleSize).map { k in values[Int(stream.bits(at: k).multipliedFullWidth(by: n).high)] }
        } else {
            sorted = Array(values)
        }
        // torch.sort puts NaN last.
        sorted.sort { $0 < $1 || (!$0.isNaN && $1.isNaN) }
        let last = Float(sorted.count - 1)
        func quantile(_ q: Float) -> Float { sorted[Int(q * last)] }
        let q1 = quantile(0.25), median = quantile(0.5), q3 = quantile(0.75)
        return median + 1.5 * (q3 - q1)
    }
}
