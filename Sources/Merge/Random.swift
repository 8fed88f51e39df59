/// A counter-based random stream: SplitMix64 evaluated at an arbitrary position.
///
/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", 2014; the
/// generator `java.util.SplittableRandom` and xoshiro's seeding use) advances its state by the
/// constant γ = 0x9E3779B97F4A7C15 and outputs a mix of the state. The state after `i` steps is
/// `key + (i + 1)·γ`, so the `i`-th output can be computed directly: that makes every element's
/// random draw a pure function of (seed, input, element index). Results therefore do not depend on
/// thread count, chunking or evaluation order.
///
/// mergekit draws its DARE/DELLA masks from torch's global generator; those values cannot be
/// reproduced, only their distribution (independent Bernoulli draws per element).
public struct RandomStream: Sendable, Equatable {
    /// The stream's starting state.
    public var key: UInt64

    @usableFromInline static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The stream for input `index` of a merge seeded with `seed` (`MergeUnit.seed`).
    public init(seed: UInt64, stream index: Int) {
        // Two mixing steps so that nearby seeds and nearby indices give unrelated keys.
        key = Self.mix(Self.mix(seed &+ Self.gamma) ^ (UInt64(truncatingIfNeeded: index) &+ 1) &* 0xD1B5_4A32_D192_ED03)
    }

    /// SplitMix64's output function (Stafford's "Mix13" variant).
    @inlinable @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The 64-bit output at position `index`.
    @inlinable @inline(__always)
    public func bits(at index: Int) -> UInt64 {
        Self.mix(key &+ (UInt64(truncatingIfNeeded: index) &+ 1) &* Self.gamma)
    }

    /// A uniform float in [0, 1) with 24 random bits (every value a multiple of 2⁻²⁴), at `index`.
    ///
    /// Each 64-bit output serves two positions: position `2k` takes bits 40…63 of output `k`,
    /// position `2k + 1` bits 8…31.
    @inlinable @inline(__always)
    public func uniform(at index: Int) -> Float {
        let word = bits(at: index >> 1)
        let shift: UInt64 = index & 1 == 0 ? 40 : 8
        return Float(UInt32(truncatingIfNeeded: word &>> shift) & 0xFF_FFFF) * 0x1p-24
    }

    /// `(uniform(at: 2k), uniform(at: 2k + 1))` from one 64-bit output.
    @inlinable @inline(__always)
    public func uniformPair(at k: Int) -> (Float, Float) {
        let word = bits(at: k)
        return (Float(UInt32(truncatingIfNeeded: word >> 40) & 0xFF_FFFF) * 0x1p-24,
                Float(UInt32(truncatingIfNeeded: word >> 8) & 0xFF_FFFF) * 0x1p-24)
    }

    /// A Bernoulli(`p`) draw at `index`: true with probability `p` (exactly ⌈p·2²⁴⌉/2²⁴ for p in [0, 1]).
    @inlinable @inline(__always)
    public func bernoulli(_ p: Float, at index: Int) -> Bool {
        uniform(at: index) < p
    }
}
