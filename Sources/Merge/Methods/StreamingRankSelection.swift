/// The elements of a descending magnitude-rank range of a tensor seen in row pieces, exactly: a radix
/// select over the magnitude key's 31 bits run as two histogram passes over the pieces (the top 16
/// bits, then the low 15 bits of the keys in the chosen bin), for both ends of the range at once (each
/// pass decodes the inputs again, so two wide digits beat three narrow ones); then, only when a range end
/// splits a run of equal non-zero magnitudes, one more pass counting those ties per row, so that each
/// piece knows which of its tied elements rank inside (ties are ranked in index order).
///
/// Drive it like a `UnitMerge`: while `needsPass`, `histogram` every piece, `accumulate` in piece
/// order, `finishPass`; then `apply` to each piece.
struct StreamingRankSelection: Sendable {
    /// The digits of each level: (shift, width).
    static let levels: [(shift: UInt32, width: UInt32)] = [(15, 16), (0, 15)]

    /// One sought descending rank and what the levels found of its key so far.
    struct Target: Sendable {
        var rank: Int
        var prefix: UInt32 = 0
        var remaining: Int
        var above = 0
        var equal = 0
        var counts: [Int] = []
    }

    let ranks: Range<Int>
    /// Elements in the tensor.
    let count: Int
    /// The targets: the order statistic at `ranks.lowerBound` (when > 0) and at `ranks.upperBound − 1`
    /// (when the range stops before the end).
    var targets: [Target] = []
    var level = 0
    /// The result once the select levels are done.
    var keep: MagnitudeSelection.RankKeep? = nil
    /// Tie counts of the rows before each row (`rows + 1` entries), once counted.
    var tiesBefore: [(upper: Int, lower: Int)] = []
    var countingTies = false
    var done = false

    /// Selects `ranks` among `count` elements.
    init(_ ranks: Range<Int>, count n: Int) {
        let ranks = ranks.clamped(to: 0 ..< n)
        self.ranks = ranks
        count = n
        if ranks.isEmpty || ranks == 0 ..< n {
            keep = MagnitudeSelection.RankKeep(0 ..< n, top: nil, bottom: nil)
            keep?.bounds = ranks.isEmpty ? .none : .all
            done = true
            return
        }
        if ranks.lowerBound > 0 { targets.append(Target(rank: ranks.lowerBound, remaining: ranks.lowerBound)) }
        if ranks.upperBound < n { targets.append(Target(rank: ranks.upperBound - 1, remaining: ranks.upperBound - 1)) }
    }

    var needsPass: Bool { !done }

    /// This pass's counts over one piece: per target, the histogram of the current digit among keys
    /// sharing its prefix; or, when counting ties, the tie counts of each row.
    func histogram(_ values: UnsafeBufferPointer<Float>, rowLength: Int) -> [Int] {
        if countingTies, let keep {
            var counts: [Int] = []
            for start in stride(from: 0, to: values.count, by: max(rowLength, 1)) {
                let c = keep.tieCounts(values.baseAddress! + start, count: min(rowLength, values.count - start))
                counts += [c.upper, c.lower]
            }
            return counts
        }
        let (shift, width) = Self.levels[level]
        let bins = 1 << Int(width)
        var counts = [Int](repeating: 0, count: bins * targets.count)
        values.withMemoryRebound(to: UInt32.self) { bits in
            counts.withUnsafeMutableBufferPointer { counts in
                for (t, target) in targets.enumerated() {
                    // Two ends in the same bin share a histogram.
                    if t == 1, level == 0 || target.prefix == targets[0].prefix {
                        for b in 0 ..< bins { counts[bins + b] = counts[b] }
                        continue
                    }
                    MagnitudeSelection.histogram(bits, digitShift: shift, digitMask: UInt32(bins - 1),
                                                 prefixShift: shift + width, prefix: target.prefix,
                                                 filtered: level > 0,
                                                 into: UnsafeMutableBufferPointer(rebasing: counts[t * bins ..< (t + 1) * bins]))
                }
            }
        }
        return counts
    }

    mutating func accumulate(_ counts: [Int]) {
        if countingTies {
            for row in stride(from: 0, to: counts.count, by: 2) {
                let last = tiesBefore.last!
                tiesBefore.append((last.upper + counts[row], last.lower + counts[row + 1]))
            }
            return
        }
        let bins = counts.count / max(targets.count, 1)
        for t in targets.indices {
            if targets[t].counts.isEmpty { targets[t].counts = [Int](repeating: 0, count: bins) }
            for b in 0 ..< bins { targets[t].counts[b] += counts[t * bins + b] }
        }
    }

    mutating func finishPass() {
        if countingTies {
            countingTies = false
            done = true
            return
        }
        let width = Self.levels[level].width
        for t in targets.indices {
            // Walk the bins from the largest digit down to the one holding the rank.
            let counts = targets[t].counts
            var bin = counts.count - 1
            while targets[t].remaining >= counts[bin] {
                targets[t].remaining -= counts[bin]
                targets[t].above += counts[bin]
                bin -= 1
            }
            targets[t].prefix = targets[t].prefix << width | UInt32(bin)
            targets[t].equal = counts[bin]
            targets[t].counts = []
        }
        level += 1
        guard level == Self.levels.count else { return }
        func statistic(_ rank: Int) -> MagnitudeSelection.OrderStatistic? {
            targets.first { $0.rank == rank }.map {
                MagnitudeSelection.OrderStatistic(key: $0.prefix, countAbove: $0.above, countEqual: $0.equal)
            }
        }
        let keep = MagnitudeSelection.RankKeep(ranks, top: ranks.lowerBound > 0 ? statistic(ranks.lowerBound) : nil,
                                               bottom: ranks.upperBound < count ? statistic(ranks.upperBound - 1) : nil)
        self.keep = keep
        if keep.hasTies {
            countingTies = true
            tiesBefore = [(0, 0)]
        } else {
            done = true
        }
    }

    /// Zeroes the elements of a piece (rows from `firstRow`) whose rank lies outside the range.
    func apply(_ values: UnsafeMutableBufferPointer<Float>, firstRow: Int) {
        guard let keep else { return }
        keep.apply(values, seen: keep.hasTies ? tiesBefore[firstRow] : (0, 0))
    }
}
