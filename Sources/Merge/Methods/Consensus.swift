/// How TIES-style methods elect each element's sign: mergekit's `ConsensusMethod` and `get_mask`
/// (`mergekit/merge_methods/generalized_task_arithmetic.py`).
public enum ConsensusMethod: String, Sendable, Equatable {
    /// The majority sign is the sign of the count of positive minus negative task vectors.
    case count
    /// The majority sign is the sign of the sum of the (weighted) task vectors: the TIES paper's
    /// election, used by every registered mergekit method.
    case sum
}

/// A sparsified task vector as the combining step sees it: element `j`'s contribution is
/// `((values[j] · mask) · scale) · weight`, the float32 rounding sequence of mergekit's
/// `rescaled_masked_tensor` (`tensor * mask`, then `* (before / after)`) followed by
/// `deltas.mul_(weights)`. The mask is 1 when the value's magnitude lies in `bounds`.
struct WeightedDelta {
    var values: UnsafeMutablePointer<Float>
    var bounds: MagnitudeSelection.KeepBounds = .all
    var scale: Float
    var weight: Float

    @inline(__always) func contribution(_ j: Int) -> Float {
        let v = values[j]
        return ((v * bounds.mask(v)) * scale) * weight
    }
}

/// The sign election and the agreeing sums over a block of elements.
enum Consensus {
    /// Writes the majority sign (+1 or −1) of elements `start ..< start + count` to `majority[0 ..< count]`.
    ///
    /// mergekit: `sum` takes `delta.sum(0) >= 0`, `count` takes `delta.sign().sum(0) >= 0`, each
    /// mapped to ±1, so a tie (or an all-zero column) elects +1 and a NaN sum elects −1.
    static func elect(_ method: ConsensusMethod, _ deltas: [WeightedDelta], start: Int, count: Int,
                      into majority: UnsafeMutablePointer<Float>) {
        for j in 0 ..< count { majority[j] = 0 }
        for delta in deltas {
            switch method {
            case .sum:
                for j in 0 ..< count {
                    majority[j] += delta.contribution(start &+ j)
                }
            case .count:
                for j in 0 ..< count {
                    let v = delta.contribution(start &+ j)
                    majority[j] += v > 0 ? 1 : (v < 0 ? -1 : 0)
                }
            }
        }
        for j in 0 ..< count {
            majority[j] = majority[j] >= 0 ? 1 : -1
        }
    }

    /// For elements `start ..< start + count`, sums the contributions whose sign equals the
    /// majority (`(deltas * mask).sum(0)`) into `mixed` and their weights (`(weights * mask).sum(0)`)
    /// into `divisor`, in input order. Zero contributions have sign 0 and never agree.
    static func sumAgreeing(_ deltas: [WeightedDelta], start: Int, count: Int,
                            majority: UnsafePointer<Float>,
                            mixed: UnsafeMutablePointer<Float>, divisor: UnsafeMutablePointer<Float>) {
        for j in 0 ..< count {
            mixed[j] = 0
            divisor[j] = 0
        }
        for delta in deltas {
            let w = delta.weight
            for j in 0 ..< count {
                let v = delta.contribution(start &+ j)
                let m = majority[j]
                // `sign == majority_sign` as a 0/1 factor: like mergekit, a non-agreeing infinite
                // or NaN contribution still yields NaN (x · 0).
                let mask: Float = (v > 0 && m > 0) || (v < 0 && m < 0) ? 1 : 0
                mixed[j] += v * mask
                divisor[j] += w * mask
            }
        }
    }
}
