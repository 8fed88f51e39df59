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
    /// One histogram pass over the data finds the 11-bit top digit; the keys sharing it are then
    /// copied out (when they are at most a quarter of the data) so the two remaining digits cost
    /// little; otherwise (e.g. the rank falls among many zeros) the data is filtered in place.
    ///
    /// - Precondition: `0 <= rank < values.count`.
    public static func select(_ values: UnsafeBufferPointer<Float>, descendingRank rank: Int) -> OrderStatistic {
        precondition(rank >= 0 && rank < values.count, "rank out of range")
        return values.withMemoryRebound(to: UInt32.self) { bits in
            var prefix: UInt32 = 0
            var remaining = rank
            var above = 0
            var equal = 0
            var histogram = [Int](repeating: 0, count: 1 << 11)
            var candidates: UnsafeMutableBufferPointer<UInt32>? = nil
            defer { candidates?.deallocate() }
            // (digit shift, digit width) per level; the prefix is the key's bits above the digit.
            for (level, (shift, width)) in [(UInt32(20), UInt32(11)), (10, 10), (0, 10)].enumerated() {
                let bins = 1 << Int(width)
                let source = candidates.map { UnsafeBufferPointer($0) } ?? bits
                histogram.withUnsafeMutableBufferPointer { counts in
                    Self.histogram(source, digitShift: shift, digitMask: UInt32(bins - 1),
                                   prefixShift: shift + width, prefix: prefix, filtered: level > 0,
                                   into: counts)
                    // Walk the bins from the largest digit down to the one holding `remaining`.
                    var bin = bins - 1
                    while remaining >= counts[bin] {
                        remaining -= counts[bin]
                        above += counts[bin]
                        bin -= 1
                    }
                    prefix = prefix << width | UInt32(bin)
                    equal = counts[bin]
                }
                if level == 0 && equal <= bits.count / 4 {
                    candidates = Self.compact(bits, prefix: prefix, prefixShift: shift, count: equal)
                }
            }
            return OrderStatistic(key: prefix, countAbove: above, countEqual: equal)
        }
    }

    /// The keys (sign cleared) whose bits above `prefixShift` equal `prefix`; there are `count`.
    static func compact(_ bits: UnsafeBufferPointer<UInt32>, prefix: UInt32, prefixShift: UInt32,
                        count: Int) -> UnsafeMutableBufferPointer<UInt32> {
        // One spare slot: the branch-free loop writes every key and advances only on a match.
        let storage = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: count + 1)
        let out = storage.baseAddress!
        var found = 0
        for word in bits {
            let key = word & 0x7FFF_FFFF
            out[found] = key
            found &+= key &>> prefixShift == prefix ? 1 : 0
        }
        return UnsafeMutableBufferPointer(rebasing: storage[0 ..< count])
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
            // Masking shifts (`&>>`): every shift here is below 32, and Swift's checked `>>` would
            // branch on the amount inside the loop.
            @inline(__always) func digit(_ word: UInt32) -> Int {
                Int(truncatingIfNeeded: ((word & 0x7FFF_FFFF) &>> digitShift) & digitMask)
            }
            @inline(__always) func filteredSlot(_ word: UInt32) -> Int {
                // prefixShift can be 31: the prefix of a 31-bit key is then 0.
                (word & 0x7FFF_FFFF) &>> prefixShift == prefix ? digit(word) : rejected
            }
            var i = chunkStart
            if filtered {
                while i &+ 4 <= chunkEnd {
                    h0[filteredSlot(base[i])] &+= 1
                    h1[filteredSlot(base[i &+ 1])] &+= 1
                    h2[filteredSlot(base[i &+ 2])] &+= 1
                    h3[filteredSlot(base[i &+ 3])] &+= 1
                    i &+= 4
                }
                while i < chunkEnd {
                    h0[filteredSlot(base[i])] &+= 1
                    i &+= 1
                }
            } else {
                while i &+ 4 <= chunkEnd {
                    h0[digit(base[i])] &+= 1
                    h1[digit(base[i &+ 1])] &+= 1
                    h2[digit(base[i &+ 2])] &+= 1
                    h3[digit(base[i &+ 3])] &+= 1
                    i &+= 4
                }
                while i < chunkEnd {
                    h0[digit(base[i])] &+= 1
                    i &+= 1
                }
            }
            for bin in 0 ..< bins {
                counts[bin] += Int(h0[bin]) + Int(h1[bin]) + Int(h2[bin]) + Int(h3[bin])
            }
            chunkStart = chunkEnd
        }
    }

    /// An inclusive range of magnitude keys: the elements a rank range keeps.
    public struct KeepBounds: Sendable, Equatable {
        public var lower: UInt32
        public var upper: UInt32

        public static let all = KeepBounds(lower: 0, upper: .max)
        public static let none = KeepBounds(lower: 1, upper: 0)

        /// 1 if an element with this key is kept, else 0 (a multiplicative mask, as mergekit's).
        @inlinable @inline(__always)
        public func mask(_ x: Float) -> Float {
            let k = MagnitudeSelection.key(x)
            return k >= lower && k <= upper ? 1 : 0
        }
    }

    /// Keeps the elements whose descending magnitude rank lies in `ranks` and sets the others to
    /// zero, in place. Equal magnitudes are ranked in index order.
    ///
    /// `keepDescendingRanks(x, 0 ..< k)` is mergekit's `magnitude` mask (top k by |x|).
    public static func keepDescendingRanks(_ values: UnsafeMutableBufferPointer<Float>, _ ranks: Range<Int>) {
        let bounds = keepBounds(values, ranks)
        if bounds == .all { return }
        guard let x = values.baseAddress else { return }
        for i in 0 ..< values.count {
            let v = x[i]
            x[i] = bounds.mask(v) == 1 ? v : 0
        }
    }

    /// The key range that keeps exactly the elements of descending rank in `ranks`.
    ///
    /// When a rank boundary splits a run of equal non-zero magnitudes, the tied elements outside
    /// `ranks` are set to zero here (a rare, separate pass), so that the returned key range is
    /// exact; other elements are not modified. Zeros tied with zeros are left alone: keeping or
    /// dropping them gives the same values.
    public static func keepBounds(_ values: UnsafeMutableBufferPointer<Float>, _ ranks: Range<Int>) -> KeepBounds {
        let n = values.count
        let ranks = ranks.clamped(to: 0 ..< n)
        if ranks.isEmpty { return .none }
        if ranks == 0 ..< n { return .all }
        let readOnly = UnsafeBufferPointer(values)
        let top = ranks.lowerBound > 0 ? select(readOnly, descendingRank: ranks.lowerBound) : nil
        let bottom = ranks.upperBound < n ? select(readOnly, descendingRank: ranks.upperBound - 1) : nil
        let keep = RankKeep(ranks, top: top, bottom: bottom)
        if let x = values.baseAddress { keep.zeroTies(x, count: n, seen: (0, 0)) }
        return keep.bounds
    }

    /// What keeps exactly the elements of a descending rank range: a key range, and the ties a rank
    /// boundary splits (equal non-zero magnitudes on both sides of it, ranked in index order).
    struct RankKeep: Sendable {
        var bounds: KeepBounds
        /// Elements with this key: the first `drop` (in index order) rank above the range.
        var upperTie: (key: UInt32, drop: Int)? = nil
        /// Elements with this key: the first `keep` (in index order) rank inside the range.
        var lowerTie: (key: UInt32, keep: Int)? = nil

        /// From the order statistics at the range's ends: `top` at rank `ranks.lowerBound` (nil when
        /// it is 0), `bottom` at rank `ranks.upperBound − 1` (nil when the range reaches the end).
        init(_ ranks: Range<Int>, top: OrderStatistic?, bottom: OrderStatistic?) {
            // Upper bound: the element at rank `lower` is the largest kept. Ties with it that rank
            // below `lower` are dropped.
            var upperKey = UInt32.max
            if let top {
                let drop = ranks.lowerBound - top.countAbove
                if drop == 0 {
                    upperKey = top.key
                } else if drop == top.countEqual {
                    upperKey = top.key == 0 ? 0 : top.key - 1
                } else {
                    upperKey = top.key
                    if top.key != 0 { upperTie = (top.key, drop) }
                }
            }
            // Lower bound: the element at rank `upper - 1` is the smallest kept.
            var lowerKey: UInt32 = 0
            if let bottom {
                lowerKey = bottom.key
                let keep = ranks.upperBound - bottom.countAbove
                if keep < bottom.countEqual && bottom.key != 0 { lowerTie = (bottom.key, keep) }
            }
            bounds = KeepBounds(lower: lowerKey, upper: upperKey)
        }

        var hasTies: Bool { upperTie != nil || lowerTie != nil }

        /// Zeroes the tied elements of `x[0 ..< count]` that fall outside the range, given how many
        /// elements with each tie key come before `x` (their key becomes 0, which the bounds then keep
        /// as zero or drop: the same value either way).
        func zeroTies(_ x: UnsafeMutablePointer<Float>, count n: Int, seen: (upper: Int, lower: Int)) {
            guard hasTies else { return }
            let upperTieKey = upperTie?.key ?? UInt32.max, drop = upperTie?.drop ?? 0
            let lowerTieKey = lowerTie?.key ?? UInt32.max, keep = lowerTie?.keep ?? Int.max
            var seenUpper = seen.upper, seenLower = seen.lower
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

        /// How many elements of `x[0 ..< count]` have each tie key.
        func tieCounts(_ x: UnsafePointer<Float>, count n: Int) -> (upper: Int, lower: Int) {
            let upperTieKey = upperTie?.key ?? UInt32.max, lowerTieKey = lowerTie?.key ?? UInt32.max
            var upper = 0, lower = 0
            for i in 0 ..< n {
                let k = key(x[i])
                upper &+= k == upperTieKey ? 1 : 0
                lower &+= k == lowerTieKey ? 1 : 0
            }
            return (upper, lower)
        }

        /// Zeroes the elements of a piece outside the range (`seen`: tie counts before the piece).
        func apply(_ values: UnsafeMutableBufferPointer<Float>, seen: (upper: Int, lower: Int)) {
            guard let x = values.baseAddress else { return }
            zeroTies(x, count: values.count, seen: seen)
            if bounds == .all { return }
            for i in 0 ..< values.count {
                let v = x[i]
                x[i] = bounds.mask(v) == 1 ? v : 0
            }
        }
    }

    /// Sorts `count` elements of `row` by ascending magnitude, ties in index order (a stable LSD
    /// radix sort over the 31-bit key, 8 bits a pass, passes with a single digit skipped).
    ///
    /// On return `pairs[r] & 0xFFFF_FFFF` is the index of the element of ascending rank `r` and
    /// `pairs[r] >> 32` its key. `pairs` and `scratch` must hold `count` elements each;
    /// `count` must be below 2³².
    public static func sortAscending(_ row: UnsafePointer<Float>, count: Int,
                                     pairs: UnsafeMutablePointer<UInt64>, scratch: UnsafeMutablePointer<UInt64>) {
        for j in 0 ..< count {
            pairs[j] = UInt64(key(row[j])) << 32 | UInt64(truncatingIfNeeded: j)
        }
        var source = pairs, destination = scratch
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { histogram in
            let counts = histogram.baseAddress!
            for shift in stride(from: UInt64(32), to: 64, by: 8) {
                for bin in 0 ..< 256 { counts[bin] = 0 }
                for j in 0 ..< count { counts[Int(truncatingIfNeeded: (source[j] &>> shift) & 0xFF)] &+= 1 }
                // Every element has the same digit: this pass would not move anything.
                if counts[Int(truncatingIfNeeded: (source[0] &>> shift) & 0xFF)] == count { continue }
                var offset = 0
                for bin in 0 ..< 256 {
                    let c = counts[bin]
                    counts[bin] = offset
                    offset &+= c
                }
                for j in 0 ..< count {
                    let value = source[j]
                    let bin = Int(truncatingIfNeeded: (value &>> shift) & 0xFF)
                    destination[counts[bin]] = value
                    counts[bin] &+= 1
                }
                swap(&source, &destination)
            }
        }
        if source != pairs { pairs.update(from: source, count: count) }
    }
}
