/// How a task vector is sparsified before merging: mergekit's `SparsificationMethod`
/// (`mergekit/sparsify.py`).
public enum SparsificationMethod: String, Sendable, Equatable {
    /// Keep the `density` fraction of largest magnitudes (TIES).
    case magnitude
    /// Keep each element with probability `density` (DARE).
    case random
    /// Drop the `gamma` fraction of largest magnitudes, then keep `density` (Model Breadcrumbs).
    case magnitudeOutliers = "magnitude_outliers"
    /// Keep each element with a probability rising linearly with its magnitude rank in its row,
    /// from `density - epsilon` to `density + epsilon` (DELLA's MAGPRUNE).
    case dellaMagprune = "della_magprune"
}

/// The sparsification settings for one task vector.
public struct SparsifyOptions: Sendable, Equatable {
    public var density: Double
    public var gamma: Double
    public var epsilon: Double
    /// mergekit's `rescale_norm=RescaleNorm.l1` when true, none when false.
    public var rescale: Bool

    public init(density: Double, gamma: Double = 0, epsilon: Double = 0, rescale: Bool) {
        self.density = density
        self.gamma = gamma
        self.epsilon = epsilon
        self.rescale = rescale
    }
}

/// Why a task vector cannot be sparsified with the given settings (mergekit raises on these).
public enum SparsifyFailure: Error, Equatable, CustomStringConvertible {
    case notFinite(String)
    case densityOutOfRange(Double)
    case epsilonOutOfRange(density: Double, epsilon: Double)
    case rowTooShort(Int)

    public var description: String {
        switch self {
        case let .notFinite(name): "\(name) is not a finite number"
        case let .densityOutOfRange(d): "density \(d.formatted) is outside [0, 1]"
        case let .epsilonOutOfRange(d, e):
            "epsilon \(e.formatted) must keep density ± epsilon inside (0, 1) (density \(d.formatted))"
        case let .rowTooShort(n): "della needs rows of at least 2 elements to rank magnitudes, got \(n)"
        }
    }
}

/// mergekit's `sparsify` (`mergekit/sparsify.py`) on a task vector held in a buffer, in place (the
/// merge methods run it over pieces: `TaskVectorSparsifier`).
///
/// The single-method functions leave the *masked* task vector in `delta` and return the L1 rescale
/// factor (`before / after` as float32, or 1 when not rescaling), which the caller multiplies in
/// exactly where mergekit does (`masked * (before / after)`, before the weight), so the float
/// rounding sequence is mergekit's: `(masked · scale) · weight`.
public enum Sparsify {
    /// mergekit's `magnitude`: keeps the `k = max(1, int(density · n))` largest magnitudes;
    /// density ≥ 1 keeps everything (and does not rescale), density ≤ 0 zeroes the tensor.
    public static func magnitude(_ delta: UnsafeMutableBufferPointer<Float>, density: Double, rescale: Bool) -> Float {
        if density >= 1 { return 1 }
        let before = rescale ? l1Norm(delta) : 0
        MagnitudeSelection.keepDescendingRanks(delta, magnitudeRanks(count: delta.count, density: density))
        return rescale ? rescaleFactor(before: before, after: l1Norm(delta)) : 1
    }

    /// The descending ranks `magnitude` keeps: `0 ..< max(1, int(density · n))`, all for
    /// density ≥ 1, none for density ≤ 0.
    static func magnitudeRanks(count n: Int, density: Double) -> Range<Int> {
        if density >= 1 { return 0 ..< n }
        if density <= 0 || n == 0 { return 0 ..< 0 }
        return 0 ..< max(1, truncatedCount(density * Double(n), limit: n))
    }

    /// mergekit's `magnitude_outliers` (Model Breadcrumbs): of the elements sorted by ascending
    /// magnitude, keeps positions `n_bot ..< n_bot + target_n` where `target_n = int(density·n)`,
    /// `n_top = int(gamma·n)`, `n_bot = max(0, n − target_n − n_top)` (so when density + gamma
    /// exceed 1 fewer outliers are removed). density ≥ 1 keeps everything.
    public static func magnitudeOutliers(_ delta: UnsafeMutableBufferPointer<Float>, density: Double,
                                         gamma: Double, rescale: Bool) -> Float {
        if density >= 1 { return 1 }
        let before = rescale ? l1Norm(delta) : 0
        MagnitudeSelection.keepDescendingRanks(delta, outlierRanks(count: delta.count, density: density, gamma: gamma))
        return rescale ? rescaleFactor(before: before, after: l1Norm(delta)) : 1
    }

    /// The descending ranks `magnitude_outliers` keeps.
    static func outlierRanks(count n: Int, density: Double, gamma: Double) -> Range<Int> {
        if density >= 1 { return 0 ..< n }
        let target = truncatedCount(density * Double(n), limit: n)
        let top = truncatedCount(gamma * Double(n), limit: n)
        let bottom = max(0, n - target - top)
        // Python slice `indices[bottom : bottom + target]` of the ascending order.
        let ascendingStart = min(bottom, n)
        let ascendingEnd = max(ascendingStart, min(bottom + target, n))
        return (n - ascendingEnd) ..< (n - ascendingStart)
    }

    /// mergekit's `bernoulli` (DARE): keeps each element independently with probability `density`
    /// (a float32 value, as `torch.full_like(…, density)`); density ≥ 1 keeps everything.
    public static func bernoulli(_ delta: UnsafeMutableBufferPointer<Float>, density: Double, rescale: Bool,
                                 stream: RandomStream) throws(SparsifyFailure) -> Float {
        if density >= 1 { return 1 }
        // torch.bernoulli rejects probabilities outside [0, 1].
        guard density >= 0 else { throw .densityOutOfRange(density) }
        let before = rescale ? l1Norm(delta) : 0
        bernoulliMask(delta, p: Float(density), stream: stream, firstPosition: 0)
        return rescale ? rescaleFactor(before: before, after: l1Norm(delta)) : 1
    }

    /// Keeps each element of `x` with probability `p` (zeroes it otherwise), element `i` drawing at
    /// stream position `firstPosition + i`: the same elements survive however a tensor is cut.
    static func bernoulliMask(_ delta: UnsafeMutableBufferPointer<Float>, p: Float, stream: RandomStream,
                              firstPosition: Int) {
        guard let x = delta.baseAddress else { return }
        let n = delta.count
        // `uniform < p` on the 24-bit integers behind the uniforms (exact: p·2²⁴ is exact in
        // double), applied as a bit mask so the loop has no data-dependent branch.
        let threshold = UInt32(min((Double(p) * 0x1p24).rounded(.up), 0x1p24))
        @inline(__always) func masked(_ v: Float, _ draw: UInt32) -> Float {
            Float(bitPattern: v.bitPattern & (draw < threshold ? UInt32.max : 0))
        }
        var i = 0
        // Positions 2k and 2k + 1 share one 64-bit output: start on an even position.
        if firstPosition & 1 == 1, n > 0 {
            if !stream.bernoulli(p, at: firstPosition) { x[0] = 0 }
            i = 1
        }
        while i &+ 2 <= n {
            let word = stream.bits(at: (firstPosition &+ i) &>> 1)
            x[i] = masked(x[i], UInt32(truncatingIfNeeded: word &>> 40) & 0xFF_FFFF)
            x[i &+ 1] = masked(x[i &+ 1], UInt32(truncatingIfNeeded: word &>> 8) & 0xFF_FFFF)
            i &+= 2
        }
        if i < n, !stream.bernoulli(p, at: firstPosition &+ i) { x[i] = 0 }
    }

    /// mergekit's `della_magprune`: within each row (the whole tensor if it is 1-D), the element of
    /// ascending magnitude rank `r` (0 ..< m) is kept with probability
    /// `(density − epsilon) + r/(m − 1) · 2 · epsilon` (float32, as mergekit computes it).
    /// density ≥ 1 keeps everything, density ≤ 0 zeroes; otherwise density ± epsilon must lie in
    /// (0, 1). The rescale norm is taken over the whole tensor.
    public static func dellaMagprune(_ delta: UnsafeMutableBufferPointer<Float>, rowLength: Int,
                                     density: Double, epsilon: Double, rescale: Bool,
                                     stream: RandomStream) throws(SparsifyFailure) -> Float {
        if density >= 1 { return 1 }
        if density <= 0 {
            delta.update(repeating: 0)
            return 1
        }
        if density + epsilon >= 1 || density - epsilon <= 0 {
            throw .epsilonOutOfRange(density: density, epsilon: epsilon)
        }
        let n = delta.count
        guard n > 0 else { return 1 }
        let m = rowLength > 0 && n % rowLength == 0 ? rowLength : n
        // mergekit's min-max normalisation of ranks 1 … m divides by m − 1 = 0 for one-element rows,
        // and torch.bernoulli then rejects the NaN probability.
        guard m >= 2 else { throw .rowTooShort(m) }
        let before = rescale ? l1Norm(delta) : 0
        dellaMask(delta, rowLength: m, density: density, epsilon: epsilon, stream: stream, firstPosition: 0)
        return rescale ? rescaleFactor(before: before, after: l1Norm(delta)) : 1
    }

    /// DELLA's mask on rows of `rowLength` (≥ 2) elements of `delta`, element `i` drawing at stream
    /// position `firstPosition + i`.
    static func dellaMask(_ delta: UnsafeMutableBufferPointer<Float>, rowLength m: Int, density: Double,
                          epsilon: Double, stream: RandomStream, firstPosition: Int) {
        guard let x = delta.baseAddress, m > 0 else { return }
        let n = delta.count
        let low = Float(density - epsilon)
        let eps = Float(epsilon)
        let span = Float(m) - 1
        // Sort (key, index) pairs per row: the rank is the position in that order.
        let pairs = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * m)
        defer { pairs.deallocate() }
        var rowStart = 0
        while rowStart < n {
            let row = x + rowStart
            MagnitudeSelection.sortAscending(row, count: m, pairs: pairs, scratch: pairs + m)
            for r in 0 ..< m {
                let j = Int(truncatingIfNeeded: pairs[r] & 0xFFFF_FFFF)
                // ((ranks − min) / (max − min)).clamp(0, 1), then (d − ε) + norm · 2 · ε.
                let normalized = min(max((Float(r + 1) - 1) / span, 0), 1)
                let p = low + normalized * 2 * eps
                // `tensor * mask`, without a data-dependent branch.
                row[j] = row[j] * (stream.bernoulli(p, at: firstPosition &+ rowStart &+ j) ? 1 : 0)
            }
            rowStart += m
        }
    }

    /// mergekit's `rescaled_masked_tensor` factor for the L1 norm: `before / after` in float32,
    /// or 1 when either norm is below 1e-7 (the masked tensor is then returned unscaled).
    @inlinable
    public static func rescaleFactor(before: Double, after: Double) -> Float {
        let b = Float(before), a = Float(after)
        let eps = Float(1e-7)
        if b < eps || a < eps { return 1 }
        return b / a
    }

    /// Σ|x| accumulated in double (mergekit sums in float32 with torch's cascade summation; double
    /// is at least as accurate, so the factors agree to float rounding).
    public static func l1Norm(_ values: UnsafeMutableBufferPointer<Float>) -> Double {
        guard let x = values.baseAddress else { return 0 }
        let n = values.count
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0
        var i = 0
        while i &+ 8 <= n {
            s0 += Double(abs(x[i])); s1 += Double(abs(x[i &+ 1]))
            s2 += Double(abs(x[i &+ 2])); s3 += Double(abs(x[i &+ 3]))
            s4 += Double(abs(x[i &+ 4])); s5 += Double(abs(x[i &+ 5]))
            s6 += Double(abs(x[i &+ 6])); s7 += Double(abs(x[i &+ 7]))
            i &+= 8
        }
        while i < n {
            s0 += Double(abs(x[i]))
            i &+= 1
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    }

    /// Python's `int(x)` (truncation toward zero) for a finite x, clamped to ±(limit + 1) so
    /// absurd values cannot overflow; results are only ever compared with `limit`.
    static func truncatedCount(_ x: Double, limit: Int) -> Int {
        if x.isNaN { return 0 }
        let bound = Double(limit) + 1
        return Int(min(max(x, -bound), bound))
    }
}
