// Shared building blocks of the K-quant codecs, after the helpers at the top of the "2-6 bit
// quantization in super-blocks" section of llama.cpp's `ggml-quants.c` (the searches without
// importance weights run eight groups at once: `KQuantLanes.swift`; with them: `+Importance`).
//
// Every function repeats the C code's single-precision operations in the same order (ggml-quants.c
// is compiled without FMA contraction on x86-64, and Swift does not contract either), including the
// C conversions: `int` → `Float` for quant levels, and truncation where C stores an `int` into an
// `int8_t`/`uint8_t`. Pointers are trusted: callers pass buffers of at least `n` elements.

/// Elements per K-quant super-block (`QK_K`).
@usableFromInline internal let kQK: Int = 256

/// Groups whose largest magnitude is below this are treated as all zero (`GROUP_MAX_EPS`).
@usableFromInline internal let kGroupMaxEps: Float = 1e-15

/// The value of largest magnitude (the first one, on ties) and that magnitude, as the scans of
/// `make_qx_quants` and `make_q3_quants` find them.
@inline(__always)
internal func signedMaxMagnitude(_ n: Int, _ x: UnsafePointer<Float>) -> (value: Float, magnitude: Float) {
    var max: Float = 0
    var amax: Float = 0
    for i in 0..<n {
        let ax = x[i].magnitude
        if ax > amax { amax = ax; max = x[i] }
    }
    return (max, amax)
}

/// The 6-bit scale and 6-bit min of sub-block `j` (0..<8) from the 12 packed bytes of a Q4_K or
/// Q5_K super-block.
///
/// Same as `get_scale_min_k4` in `ggml-quants.c`.
@inline(__always)
internal func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (q[j] & 63, q[j &+ 4] & 63)
    }
    return ((q[j &+ 4] & 0xF) | ((q[j &- 4] &>> 6) &<< 4),
            (q[j &+ 4] &>> 4) | ((q[j] &>> 6) &<< 4))
}

/// Packs 256 two-bit levels (`levels[i] < 4`) the K-quant way: byte `32·h + l` of the 64 output
/// bytes holds levels `128·h + l + 32·s` in bits `2s ..< 2s+2` (as in Q2_K's and Q3_K's `qs`).
@inline(__always)
internal func packTwoBitLevels(_ levels: UnsafePointer<UInt8>, into qs: UnsafeMutablePointer<UInt8>) {
    for j in stride(from: 0, to: kQK, by: 128) {
        for l in 0..<32 {
            qs[j / 4 &+ l] = levels[j &+ l] | (levels[j &+ l &+ 32] &<< 2)
                | (levels[j &+ l &+ 64] &<< 4) | (levels[j &+ l &+ 96] &<< 6)
        }
    }
}
