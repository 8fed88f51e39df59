/// Exact order statistics of |x| over a float tensor in O(n), without sorting it: a three-level
/// radix select over the magnitude's bit pattern (11 + 10 + 10 bits).
///
/// For non-negative floats the IEEE bit pattern orders like the value, so the "key" of `x` is its
/// bit pattern with the sign cleared. NaNs get keys above +∞, i.e. they rank as the largest
/// magnitudes, as in torch's `argsort(descending=True)`.
///
/// Ranks are 0-based and descending (rank 0 is the largest magnitude). Elements with equal
/// magnitude are ranked in index order; torch's (unstable) sort leaves that order unspecified, so
/// any consistent rule matches mergekit. No scratch memory proportional to the tensor is used: each
/// level is one pass over the data with four interleaved histograms (no dependency chains on ties).
public enum MagnitudeSelection {
    /// The order key of `x`: its magnitude's bit pattern.
    @inlinable @inline(__always)
    public static func key(_ x: Float) -> UInt32 { x.bitPattern & 0x7FFF_FFFF }

    /// The magnitude key at some rank, with how many elements lie strictly above it and how many
    /// share it.
    public struct OrderStatistic: Sendable, Equatable {
        public var key: UInt32
        public var countAbove: Int
        public var countEqual: Int
    }

    /// The magnitude key at descending rank `rank` (0 = the largest) of `values`.
    ///
    /// - Precondition: `0 <= rank < values.count`.
    public static func select(_ values: UnsafeBufferPointer<Float>, descendingRank rank: Int) -> OrderStatistic {
        precondition(rank >= 0 && rank < values.count, "rank out of range")
        return values.withMemoryRebound(to: UInt32.self) { bits in
            // (digit shift, digit width) per level; the prefix is the key's bits above the digit.
            let levels: [(shift: UInt32, width: UInt32)] = [(20, 11), (10, 10), (0, 10)]
            var prefix: UInt32 = 0
            var remaining = rank
            var above = 0
            var equal = 0
            var histogram = [Int](repeating: 0, count: 1 << 11)
            for (index, level) in levels.enumerated() {
                let bins = 1 << Int(level.width)
                let prefixShift = level.shift + level.width
                histogram.withUnsafeMutableBufferPointer { counts in
                    Self.histogram(bits, digitShift: level.shift, digitMask: UInt32(bins - 1),
                                   prefixShift: prefixShift, prefix: prefix, filtered: index > 0,
                                   into: counts)
                    // Walk the bins from the largest digit down to the one holding `remaining`.
                    var bin = bins - 1
                    while remaining >= counts[bin] {
                        remaining -= counts[bin]
                        above += counts[bin]
                        bin -= 1
                    }
                    prefix = prefix << level.width | UInt32(bin)
                    equal = counts[bin]
                }
            }
            return OrderStatistic(key: prefix, countAbove: above, countEqual: equal)
        }
    }

    /// Counts, for every key whose bits above `prefixShift` equal `prefix` (every key when not
    /// `filtered`), the digit `(key >> digitShift) & digitMask`. `counts` is overwritten.
    static func histogram(_ bits: UnsafeBufferPointer<UInt32>, digitShift: UInt32, digitMask: UInt32,
                          prefixShift: UInt32, prefix: UInt32, filtered: Bool,
                          into counts: UnsafeMutableBufferPointer<Int>) {
        let bins = Int(digitMask) + 1
        // Four sub-histograms of 32-bit counters plus one "rejected" bin each: runs of equal keys
        // (e.g. the zeros of a sparse task vector) do not serialize on one counter, and filtering
        // is branch-free. Chunks keep the 32-bit counters from overflowing.
        let stride = bins + 1
        let local = UnsafeMutablePointer<UInt32>.allocate(capacity: 4 * stride)
        defer { local.deallocate() }
        for bin in 0 ..< bins { counts[bin] = 0 }
        guard let base = bits.baseAddress else { return }
        let chunkSize = 1 << 30
        var chunkStart = 0
        while chunkStart < bits.count {
            let chunkEnd = min(bits.count, chunkStart + chunkSize)
            local.initialize(repeating: 0, count: 4 * stride)
            let h0 = local, h1 = local + stride, h2 = local + 2 * stride, h3 = local + 3 * stride
            let rejected = Int(bins)
            @inline(__always) func slot(_ word: UInt32) -> Int {
                let key = word & 0x7FFF_FFFF
                let digit = Int((key >> digitShift) & digitMask)
                if !filtered { return digit }
                // prefixShift can be 31: the prefix of a 31-bit key is then 0.
                return (key >> prefixShift) == prefix ? digit : rejected
            }
            var i = chunkStart
            while i &+ 4 <= chunkEnd {
                h0[slot(base[i])] &+= 1
                h1[slot(base[i &+ 1])] &+= 1
                h2[slot(base[i &+ 2])] &+= 1
                h3[slot(base[i &+ 3])] &+= 1
                i &+= 4
            }
            while i < chunkEnd {
                h0[slot(base[i])] &+= 1
                i &+= 1
            }
            for bin in 0 ..< bins {
                counts[bin] += Int(h0[bin]) + Int(h1[bin]) + Int(h2[bin]) + Int(h3[bin])
            }
            chunkStart = chunkEnd
        }
    }

    /// Keeps the elements whose descending magnitude rank lies in `ranks` and sets the others to
    /// zero, in place. Equal magnitudes are ranked in index order.
    ///
    /// `keepDescendingRanks(x, 0 ..< k)` is mergekit's `magnitude` mask (top k by |x|).
    public static func keepDescendingRanks(_ values: UnsafeMutableBufferPointer<Float>, _ ranks: Range<Int>) {
        let n = values.count
        let ranks = ranks.clamped(to: 0 ..< n)
        if ranks.isEmpty {
            values.update(repeating: 0)
            return
        }
        if ranks == 0 ..< n { return }
        let readOnly = UnsafeBufferPointer(values)

        // Upper bound: the element at rank `lower` is the largest kept. Ties with it that rank
        // below `lower` are dropped.
        var upperKey = UInt32.max
        var upperTie: (key: UInt32, drop: Int)? = nil
        if ranks.lowerBound > 0 {
            let top = select(readOnly, descendingRank: ranks.lowerBound)
            let drop = ranks.lowerBound - top.countAbove
            if drop == 0 {
                upperKey = top.key
            } else if drop == top.countEqual {
                upperKey = top.key == 0 ? 0 : top.key - 1
            } else {
                upperKey = top.key
                // Zeros tied with zeros: dropping or keeping them gives the same values.
                if top.key != 0 { upperTie = (top.key, drop) }
            }
        }
        // Lower bound: the element at rank `upper - 1` is the smallest kept.
        var lowerKey: UInt32 = 0
        var lowerTie: (key: UInt32, keep: Int)? = nil
        if ranks.upperBound < n {
            let bottom = select(readOnly, descendingRank: ranks.upperBound - 1)
            lowerKey = bottom.key
            let keep = ranks.upperBound - bottom.countAbove
            if keep < bottom.countEqual && bottom.key != 0 { lowerTie = (bottom.key, keep) }
        }

        guard let x = values.baseAddress else { return }
        if upperTie != nil || lowerTie != nil {
            // Rare: a partial tie at a boundary. Zero the tied elements that fall outside `ranks`
            // (their key becomes 0, so the main pass keeps them at zero or drops them: same value).
            let upperTieKey = upperTie?.key ?? UInt32.max, drop = upperTie?.drop ?? 0
            let lowerTieKey = lowerTie?.key ?? UInt32.max, keep = lowerTie?.keep ?? Int.max
            var seenUpper = 0, seenLower = 0
            for i in 0 ..< n {
                let k = key(x[i])
                var zero = false
                if k == upperTieKey {
                    zero = seenUpper < drop
                    seenUpper += 1
                }
                if k == lowerTieKey {
                    zero = zero || seenLower >= keep
                    seenLower += 1
                }
                if zero { x[i] = 0 }
            }
        }
        for i in 0 ..< n {
            let v = x[i]
            let k = key(v)
            x[i] = (k <= upperKey && k >= lowerKey) ? v : 0
        }
    }
}
