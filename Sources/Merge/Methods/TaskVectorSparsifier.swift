/// One task vector's sparsification (mergekit's `sparsify`, `mergekit/sparsify.py`) over a tensor
/// seen in row pieces: the statistics it needs first (the magnitude ranks' key range, the L1 norms
/// before and after masking for the rescale), then the mask of each piece.
///
/// The masked values and the rescale factor are mergekit's: the caller computes each contribution as
/// `((masked · scale) · weight)`, mergekit's rounding sequence.
struct TaskVectorSparsifier: Sendable {
    enum Partial {
        case counts([Int])
        case norms(before: Double, after: Double)
    }

    let method: SparsificationMethod
    let options: SparsifyOptions
    let stream: RandomStream
    let rowLength: Int
    /// density ≥ 1: the task vector is kept whole and not rescaled.
    let keepsAll: Bool
    /// DELLA with density ≤ 0: the task vector is zeroed, not rescaled.
    let zeroesAll: Bool
    /// The magnitude methods' rank range (density < 1).
    var selection: StreamingRankSelection? = nil
    /// The rescale's norms still have to be measured.
    var measuringNorms: Bool
    var norms = (before: 0.0, after: 0.0)
    /// `before / after` as float32 (1 when not rescaling).
    var scale: Float = 1

    /// Checks the options as mergekit does for a task vector of `count` elements in rows of `rowLength`.
    init(_ method: SparsificationMethod, options: SparsifyOptions, rowLength: Int, count n: Int,
         stream: RandomStream) throws(SparsifyFailure) {
        guard options.density.isFinite else { throw .notFinite("density") }
        self.method = method
        self.options = options
        self.stream = stream
        self.rowLength = rowLength
        let density = options.density
        keepsAll = density >= 1
        zeroesAll = method == .dellaMagprune && density <= 0
        switch method {
        case .magnitude:
            if !keepsAll { selection = StreamingRankSelection(Sparsify.magnitudeRanks(count: n, density: density), count: n) }
        case .magnitudeOutliers:
            guard options.gamma.isFinite else { throw .notFinite("gamma") }
            if !keepsAll {
                selection = StreamingRankSelection(Sparsify.outlierRanks(count: n, density: density, gamma: options.gamma),
                                                   count: n)
            }
        case .random:
            // torch.bernoulli rejects probabilities outside [0, 1].
            if !keepsAll, density < 0 { throw .densityOutOfRange(density) }
        case .dellaMagprune:
            guard options.epsilon.isFinite else { throw .notFinite("epsilon") }
            if !keepsAll, !zeroesAll {
                if density + options.epsilon >= 1 || density - options.epsilon <= 0 {
                    throw .epsilonOutOfRange(density: density, epsilon: options.epsilon)
                }
                // mergekit's min-max normalisation of ranks 1 … m divides by m − 1 = 0 for one-element
                // rows, and torch.bernoulli then rejects the NaN probability.
                if n > 0, rowLength < 2 { throw .rowTooShort(rowLength) }
            }
        }
        measuringNorms = options.rescale && !keepsAll && !zeroesAll
    }

    var needsPass: Bool { selection?.needsPass == true || measuringNorms }

    /// The current pass's statistics of one piece of the task vector (which may be overwritten).
    func statistics(_ delta: UnsafeMutableBufferPointer<Float>, piece: RowPiece) -> Partial {
        if let selection, selection.needsPass {
            return .counts(selection.histogram(UnsafeBufferPointer(delta), rowLength: piece.rowLength))
        }
        let before = Sparsify.l1Norm(delta)
        mask(delta, piece: piece)
        return .norms(before: before, after: Sparsify.l1Norm(delta))
    }

    mutating func accumulate(_ partial: Partial) {
        switch partial {
        case let .counts(counts):
            selection?.accumulate(counts)
        case let .norms(before, after):
            norms.before += before
            norms.after += after
        }
    }

    mutating func finishPass() {
        if selection?.needsPass == true {
            selection?.finishPass()
        } else {
            scale = Sparsify.rescaleFactor(before: norms.before, after: norms.after)
            measuringNorms = false
        }
    }

    /// Zeroes the dropped elements of one piece of the task vector.
    func mask(_ delta: UnsafeMutableBufferPointer<Float>, piece: RowPiece) {
        if keepsAll { return }
        switch method {
        case .magnitude, .magnitudeOutliers:
            selection?.apply(delta, firstRow: piece.rows.lowerBound)
        case .random:
            Sparsify.bernoulliMask(delta, p: Float(options.density), stream: stream, firstPosition: piece.firstElement)
        case .dellaMagprune:
            if zeroesAll {
                delta.update(repeating: 0)
            } else {
                Sparsify.dellaMask(delta, rowLength: rowLength, density: options.density, epsilon: options.epsilon,
                                   stream: stream, firstPosition: piece.firstElement)
            }
        }
    }
}
