import GGUF

/// Q4_K: super-blocks of 256 weights in 8 groups of 32, `x ≈ d·sc·q − dmin·m` with 4-bit `q`,
/// 6-bit group scale `sc` and min `m`, and F16 super-block scales `d`, `dmin` (144 bytes, 4.5 bpw).
///
/// Layout (`block_q4_K`): `d`, `dmin`, `scales[12]` (8 × (6-bit sc, 6-bit m), see `scaleMinK4`),
/// `qs[128]` (byte `32·c + l` holds level `64·c + l` in its low nibble and `64·c + 32 + l` in its high).
public enum Q4_K: BlockQuantizer {
    public static var type: GGMLType { .q4_K }

    @usableFromInline static let blockBytes = 144

    /// Bit-exact with llama.cpp's `dequantize_row_q4_K`.
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let d = block.loadHalf(at: 0)
            let dmin = block.loadHalf(at: 2)
            for chunk in 0..<4 {
                let y = dst + (i &* kQK &+ 64 &* chunk)
                let (d1, min1, d2, min2) = groupPairScales(chunk, block + 4, d: d, dmin: dmin)
                for half in 0..<2 {
                    let (a, b) = ByteLanes.widen(block.loadUnaligned(fromByteOffset: 16 &+ 32 &* chunk &+ 16 &* half,
                                                                     as: SIMD16<UInt8>.self))
                    ByteLanes(words: a & 0xF, b & 0xF).store(times: d1, minus: min1, to: y + 16 &* half)
                    ByteLanes(words: a &>> 4, b &>> 4).store(times: d2, minus: min2, to: y + (32 &+ 16 &* half))
                }
            }
        }
    }

    /// Bit-exact with llama.cpp's `quantize_row_q4_K_ref` (what `llama-quantize` writes for Q4_K
    /// without an importance matrix).
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        withScaleMinScratch { scratch in
            for i in 0..<blocks {
                let block = dst + i &* blockBytes
                quantizeScalesAndLevels(src + i &* kQK, into: block, nmax: 15, rmin: -1, rdelta: 0.1,
                                        nstep: 20, scratch: scratch)
                let levels = scratch.levels
                let q = block.assumingMemoryBound(to: UInt8.self) + 16
                for chunk in 0..<4 {
                    let qc = q + 32 &* chunk
                    for l in 0..<32 {
                        let pair = integerLevels(levels[l])
                        qc[l] = UInt8(truncatingIfNeeded: pair[2 &* chunk] | (pair[2 &* chunk &+ 1] &<< 4))
                    }
                }
            }
        }
    }
}

// MARK: - The scale-and-min scheme shared with Q5_K

extension Q4_K {
    /// The scales and offsets of groups `2·chunk` and `2·chunk + 1`, `d·sc` and `dmin·m`, rounded as
    /// `dequantize_row_q4_K` and `dequantize_row_q5_K` round them before their one product and one
    /// difference per level.
    @inline(__always)
    static func groupPairScales(_ chunk: Int, _ scales: UnsafeRawPointer, d: Float, dmin: Float)
        -> (d1: Float, min1: Float, d2: Float, min2: Float) {
        let bytes = scales.assumingMemoryBound(to: UInt8.self)
        let (sc1, m1) = scaleMinK4(2 &* chunk, bytes)
        let (sc2, m2) = scaleMinK4(2 &* chunk &+ 1, bytes)
        return (d * Float(sc1), dmin * Float(m1), d * Float(sc2), dmin * Float(m2))
    }
}

/// Per-call scratch for `Q4_K.quantizeScalesAndLevels`: the eight groups of 32 of a super-block in
/// lanes (see `loadGroupLanes`).
struct ScaleMinScratch {
    /// The super-block's values.
    var x: UnsafeMutablePointer<SIMD8<Float>>
    /// Their weights.
    var weights: UnsafeMutablePointer<SIMD8<Float>>
    /// Their levels (as floats).
    var levels: UnsafeMutablePointer<SIMD8<Float>>
    /// Candidate levels for `makeQKX2Quants`.
    var laux: UnsafeMutablePointer<SIMD8<Float>>
}

extension Q4_K {
    /// Runs `body` with scratch for one call's worth of super-blocks (allocated on the stack once).
    @inline(__always)
    static func withScaleMinScratch(_ body: (ScaleMinScratch) -> Void) {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 4 * 32) { lanes in
            let base = lanes.baseAddress!
            body(ScaleMinScratch(x: base, weights: base + 32, levels: base + 64, laux: base + 96))
        }
    }

    /// The part of `quantize_row_q4_K_ref` / `quantize_row_q5_K_ref` before the levels are packed:
    /// fits each group of 32 with `make_qkx2_quants` (weights `rms(group) + |x|`; the eight groups in
    /// lanes), packs the 6-bit group scales and mins into bytes 4..<16 of `block` and the F16 `d`,
    /// `dmin` into bytes 0..<4, then requantizes every group against the rounded scales into
    /// `scratch.levels` (0...nmax, lane `j` of `levels[l]` is level `32·j + l`).
    @inline(__always)
    static func quantizeScalesAndLevels(
        _ source: UnsafePointer<Float>, into block: UnsafeMutableRawPointer,
        nmax: Int, rmin: Float, rdelta: Float, nstep: Int, scratch: ScaleMinScratch
    ) {
        let x = scratch.x
        let weights = scratch.weights
        let levels = scratch.levels
        loadGroupLanes(32, source, into: x)
        var sumX2 = SIMD8<Float>()
        for l in 0..<32 { sumX2 += x[l] * x[l] }
        let avX = (sumX2 / 32).squareRoot()
        for l in 0..<32 { weights[l] = avX + magnitude(x[l]) }
        let (groupScales, groupMins) = makeQKX2Quants(32, nmax, x, weights: weights, levels,
                                                      scratch: scratch.laux, rmin: rmin, rdelta: rdelta,
                                                      nstep: nstep, useMad: false)
        var maxScale: Float = 0
        var maxMin: Float = 0
        for j in 0..<8 {
            if groupScales[j] > maxScale { maxScale = groupScales[j] }
            if groupMins[j] > maxMin { maxMin = groupMins[j] }
        }

        let scales = block.assumingMemoryBound(to: UInt8.self) + 4
        let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
        let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
        for j in 0..<8 {
            // C stores nearest_int's result in a uint8_t before clamping.
            let ls = Swift.min(63, UInt8(truncatingIfNeeded: Int(nearestInt(invScale * groupScales[j]))))
            let lm = Swift.min(63, UInt8(truncatingIfNeeded: Int(nearestInt(invMin * groupMins[j]))))
            if j < 4 {
                scales[j] = ls
                scales[j &+ 4] = lm
            } else {
                scales[j &+ 4] = (ls & 0xF) | ((lm & 0xF) &<< 4)
                scales[j &- 4] |= (ls &>> 4) &<< 6
                scales[j] |= (lm &>> 4) &<< 6
            }
        }
        block.storeHalf(floatToHalf(maxScale / 63), at: 0)
        block.storeHalf(floatToHalf(maxMin / 63), at: 2)

        // Requantize against the rounded scales, as the C code does (groups with d == 0 keep theirs).
        let dAll = UnsafeRawPointer(block).loadHalf(at: 0)
        let dminAll = UnsafeRawPointer(block).loadHalf(at: 2)
        var d = SIMD8<Float>()
        var dm = SIMD8<Float>()
        for j in 0..<8 {
            let (sc, m) = scaleMinK4(j, scales)
            d[j] = dAll * Float(sc)
            dm[j] = dminAll * Float(m)
        }
        let requantized = d .!= 0
        for l in 0..<32 {
            levels[l].replace(with: nearestLevel((x[l] + dm) / d, 0, Float(nmax)), where: requantized)
        }
    }
}
