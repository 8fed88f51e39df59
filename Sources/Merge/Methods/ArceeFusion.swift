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
/// replacement by torch's generator; here the sample comes from `MergeUnit.seed` (same estimator, not
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

    /// mergekit's `_QUANTILE_SAMPLE_SIZE`.
    static let quantileSampleSize = 1_000_000

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        try unit.checkInputs(name)
        let base = try unit.requireBase(name)
        if unit.inputCount != 2 {
            throw unit.invalid(name, "requires exactly 2 inputs (the base and one other model); got \(unit.inputCount)")
        }
        return Merge(base: base, count: unit.elementCount, seed: unit.seed)
    }

    /// One statistics pass gathering the importances' sample (all of them, or the seeded sample of a
    /// large tensor), then the row pass recomputing each row's importance against the threshold.
    struct Merge: UnitMerge {
        var base: Int
        /// The sampled elements' indices in ascending order, with their slots in the sample (nil:
        /// every element, in order).
        var positions: [(index: Int, slot: Int)]?
        var sample: [Float] = []
        var threshold: Float? = nil

        init(base: Int, count: Int, seed: UInt64) {
            self.base = base
            if count > ArceeFusion.quantileSampleSize {
                var generator = SplitMix64(seed: seed)
                positions = (0 ..< ArceeFusion.quantileSampleSize)
                    .map { (Int(generator.next(below: UInt64(count))), $0) }
                    .sorted { $0.index < $1.index }
                sample = [Float](repeating: 0, count: ArceeFusion.quantileSampleSize)
            }
            if count == 0 { threshold = 0 }
        }

        var needsPass: Bool { threshold == nil }

        /// The importance `|other − base|·kl(row)` of every element of a piece, into `output`.
        func importance(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            let base = piece.inputs[self.base], other = piece.inputs[1 - self.base]
            let rowLength = piece.rowLength
            var p = [Float](repeating: 0, count: rowLength), q = p
            p.withUnsafeMutableBufferPointer { p in
                q.withUnsafeMutableBufferPointer { q in
                    for r in 0 ..< piece.rows.count {
                        let range = r &* rowLength ..< (r &+ 1) &* rowLength
                        ArceeFusion.softmaxPlusEps(UnsafeBufferPointer(rebasing: other[range]), into: p)
                        ArceeFusion.softmaxPlusEps(UnsafeBufferPointer(rebasing: base[range]), into: q)
                        var kl = 0.0
                        for k in 0 ..< rowLength { kl += Double(p[k] * Float(log(Double(p[k] / q[k])))) }
                        let klRow = Float(kl)
                        for e in range { output[e] = abs(other[e] - base[e]) * klRow }
                    }
                }
            }
        }

        /// The piece's sampled importances: `(slot, value)` pairs, or every value in order.
        func statistics(_ piece: RowPiece) -> [(slot: Int, value: Float)] {
            var values = [Float](repeating: 0, count: piece.count)
            values.withUnsafeMutableBufferPointer { importance(piece, into: $0) }
            guard let positions else { return values.enumerated().map { ($0.offset, $0.element) } }
            let first = piece.rows.lowerBound * piece.rowLength, end = first + piece.count
            var lower = 0, upper = positions.count
            while lower < upper {
                let middle = (lower + upper) / 2
                if positions[middle].index < first { lower = middle + 1 } else { upper = middle }
            }
            var picked: [(slot: Int, value: Float)] = []
            while lower < positions.count, positions[lower].index < end {
                picked.append((positions[lower].slot, values[positions[lower].index - first]))
                lower += 1
            }
            return picked
        }

        mutating func accumulate(_ partial: [(slot: Int, value: Float)]) {
            if positions == nil {
                sample += partial.map(\.value)
            } else {
                for (slot, value) in partial { sample[slot] = value }
            }
        }

        mutating func finishPass() {
            // torch.sort puts NaNs last.
            sample.sort { $0 < $1 || ($1.isNaN && !$0.isNaN) }
            func quantile(_ q: Float) -> Float { sample[Int(q * Float(sample.count - 1))] }
            let q1 = quantile(0.25), median = quantile(0.5), q3 = quantile(0.75)
            threshold = median + 1.5 * (q3 - q1)
            sample = []
        }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            guard let threshold else { return }
            importance(piece, into: output)
            let base = piece.inputs[self.base], other = piece.inputs[1 - self.base]
            for i in output.indices {
                let mask: Float = output[i] >= threshold ? 1 : 0
                output[i] = base[i] + (other[i] - base[i]) * mask
            }
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
