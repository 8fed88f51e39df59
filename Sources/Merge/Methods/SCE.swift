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

    static let int8Mask = ParameterSpec("int8_mask", .bool, .global, default: .bool(false))
    static let selectTopK = ParameterSpec("select_topk", .number, .global, default: .number(1))
    public var parameters: [ParameterSpec] { [Self.int8Mask, Self.selectTopK] }

    public func prepare(_ unit: MergeUnit) throws(MergeError) -> any UnitMerge {
        let (baseIndex, others) = try TaskVectors.validate(unit, method: name)
        let topK = try unit.number(name, Self.selectTopK)
        guard topK.isFinite else { throw unit.invalid(name, "select_topk is not finite") }
        return Merge(base: baseIndex, others: others, topK: topK, count: unit.elementCount)
    }

    /// Statistics passes: with `0 < select_topk < 1`, the count of non-zero variances, then the
    /// variances' top-k selection; then the task vectors' mean squares. Then per piece: select, elect
    /// and erase.
    struct Merge: UnitMerge {
        enum Partial {
            case nonzero(Int)
            case counts([Int])
            case squares([Double])
        }

        var base: Int
        var others: [Int]
        var topK: Double
        var count: Int
        /// Still to count the non-zero variances (the first pass when selecting).
        var countingNonzero: Bool
        var selection: StreamingRankSelection? = nil
        /// Everything is erased (`select_topk ≤ 0`, or k = 0).
        var eraseAll: Bool
        var squares: [Double]
        var weights: [Float]? = nil

        init(base: Int, others: [Int], topK: Double, count: Int) {
            self.base = base
            self.others = others
            self.topK = topK
            self.count = count
            countingNonzero = topK > 0 && topK < 1
            eraseAll = topK <= 0
            squares = [Double](repeating: 0, count: others.count)
        }

        var needsPass: Bool { weights == nil && !others.isEmpty && count > 0 }

        /// The task vectors of a piece, in place, with the selection applied (when it is known).
        func vectors(_ piece: RowPiece) -> [UnsafeMutableBufferPointer<Float>] {
            let vectors = others.map { piece.inputs[$0] }
            for d in vectors { d.subtract(piece.inputs[base]) }
            if eraseAll {
                for d in vectors { for j in d.indices { d[j] = d[j] * 0 } }
            } else if let selection, !selection.needsPass {
                withUnsafeTemporaryAllocation(of: Float.self, capacity: piece.count) { variances in
                    SCE.variance(vectors, into: variances)
                    selection.apply(variances, firstRow: piece.rows.lowerBound)
                    for d in vectors {
                        for j in d.indices { d[j] = d[j] * (variances[j] != 0 ? 1 : 0) }
                    }
                }
            }
            return vectors
        }

        func statistics(_ piece: RowPiece) -> Partial {
            if countingNonzero || selection?.needsPass == true {
                let vectors = others.map { piece.inputs[$0] }
                for d in vectors { d.subtract(piece.inputs[base]) }
                return withUnsafeTemporaryAllocation(of: Float.self, capacity: piece.count) { variances in
                    SCE.variance(vectors, into: variances)
                    if let selection {
                        return .counts(selection.histogram(UnsafeBufferPointer(variances), rowLength: piece.rowLength))
                    }
                    var nonzero = 0
                    for v in variances where v != 0 { nonzero += 1 }
                    return .nonzero(nonzero)
                }
            }
            // Calculate: the squares of each selected task vector.
            return .squares(vectors(piece).map { VectorMath.dot($0.readOnly, $0.readOnly) })
        }

        mutating func accumulate(_ partial: Partial) {
            switch partial {
            case let .nonzero(n): squares[0] += Double(n)
            case let .counts(counts): selection?.accumulate(counts)
            case let .squares(sums): for k in sums.indices { squares[k] += sums[k] }
            }
        }

        mutating func finishPass() {
            if countingNonzero {
                countingNonzero = false
                // `int(count_nonzero(var) * density)`: an int64 tensor times a float → float32.
                let k = Sparsify.truncatedCount(Double(Float(squares[0]) * Float(topK)), limit: count)
                squares[0] = 0
                if k <= 0 {
                    eraseAll = true
                } else {
                    selection = StreamingRankSelection(0 ..< k, count: count)
                }
                return
            }
            if selection?.needsPass == true {
                selection?.finishPass()
                return
            }
            // Mean of squares per task vector, normalised.
            var weights = squares.map { Float($0) / Float(count) }
            var weightSum: Float = 0
            for w in weights { weightSum += w }
            if abs(weightSum) < Float(1e-6) {
                weights = weights.map { _ in Float(1) / Float(weights.count) }
            } else {
                weights = weights.map { $0 / weightSum }
            }
            self.weights = weights
        }

        func merge(_ piece: RowPiece, into output: UnsafeMutableBufferPointer<Float>) {
            let b = piece.inputs[base]
            guard let weights, !others.isEmpty else {
                _ = output.update(fromContentsOf: b)
                return
            }
            let vectors = self.vectors(piece).map { $0.baseAddress! }
            let n = output.count
            let out = output.baseAddress!
            // Erase: elect on the unweighted sum, then the weighted mean of the agreeing vectors.
            let unweighted = vectors.map { WeightedDelta(values: $0, scale: 1, weight: 1) }
            let floor = Float(1e-6)
            let block = GeneralizedTaskArithmetic.blockSize
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { scratch in
                let majority = scratch.baseAddress!, divisor = scratch.baseAddress! + block
                for start in stride(from: 0, to: n, by: block) {
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
                }
            }
        }
    }

    /// Population variance across `vectors` per element (`torch.var(dim=0, unbiased=False)`).
    static func variance(_ vectors: [UnsafeMutableBufferPointer<Float>], into out: UnsafeMutableBufferPointer<Float>) {
        let inputs = Float(vectors.count)
        let n = out.count
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
