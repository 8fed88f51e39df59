// The steps every IQ quantizer of ggml-quants.c shares before its grid search: per-element weights
// from the importance matrix and the super-block's mean square, and magnitudes with sign bits.

/// `sigma2 = Σx²/256` of a super-block, summed in order (`sumx2/QK_K` in ggml).
@inline(__always)
func superBlockMeanSquare(_ x: UnsafePointer<Float>) -> Float {
    var sumx2: Float = 0
    for i in 0..<256 { sumx2 += x[i] * x[i] }
    return sumx2 / 256
}

/// ggml's `weight[i] = qw[i]·sqrtf(sigma2 + x[i]²)` for `n` elements (and `waux[i] = sqrtf(weight[i])`
/// when `roots` is given).
@inline(__always)
func importanceWeights(_ x: UnsafePointer<Float>, _ qw: UnsafePointer<Float>, sigma2: Float, _ n: Int,
                       into weight: UnsafeMutablePointer<Float>, roots: UnsafeMutablePointer<Float>? = nil) {
    for i in 0..<n { weight[i] = qw[i] * (sigma2 + x[i] * x[i]).squareRoot() }
    if let roots {
        for i in 0..<n { roots[i] = weight[i].squareRoot() }
    }
}

/// The magnitudes of 8 elements into `xval` and their sign bits, with an even count of negatives as
/// IQ2_XXS/IQ2_XS/IQ3_XXS store only 7 sign bits: when the count is odd, the element of least
/// `weight·x²` (the first such) is flipped — its `xval` negated and its bit toggled. Returns the 7 bits
/// (`block_signs[k]` in ggml).
@inline(__always)
func evenSigns(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, into xval: UnsafeMutablePointer<Float>) -> UInt8 {
    var flips = 0
    var s: UInt8 = 0
    for i in 0..<8 {
        if x[i] >= 0 {
            xval[i] = x[i]
        } else {
            xval[i] = -x[i]
            flips += 1
            s |= 1 << UInt8(i)
        }
    }
    if flips % 2 != 0 {
        var imin = 0
        var min = weight[0] * x[0] * x[0]
        for i in 1..<8 {
            let ax = weight[i] * x[i] * x[i]
            if ax < min {
                min = ax
                imin = i
            }
        }
        xval[imin] = -xval[imin]
        s ^= 1 << UInt8(imin)
    }
    return s & 127
}

/// ggml's `MAX(lo, MIN(hi, nearest_int(0.5f*(id*x − 1))))`: the level `l` whose odd value `2l + 1` is
/// nearest to `id·x`, clamped.
@inline(__always)
func oddLevel(_ id: Float, _ x: Float, maxLevel: Int32) -> Int8 {
    Int8(max(0, min(maxLevel, nearestInt(0.5 * (id * x - 1)))))
}
