// IQ4_NL and IQ4_XS with an importance matrix: llama.cpp's `quantize_iq4_nl` / `quantize_iq4_xs`
// calling `quantize_row_iq4_nl_impl` with `quant_weights` and `ntry = 7`.

/// `σ²` of `quantize_row_iq4_nl_impl`: the sum of squares of the super-block times `2 / n`.
@inlinable @inline(__always)
func iq4Sigma2(_ n: Int, _ x: UnsafePointer<Float>) -> Float {
    var sigma2: Float = 0
    for j in 0..<n { sigma2 += x[j] * x[j] }
    return sigma2 * (2 / Float(n))
}

/// `weights[j] = qw[j]·√(σ² + x[j]²)` for a group of 32.
@inlinable @inline(__always)
func iq4Weights(_ x: UnsafePointer<Float>, _ qw: UnsafePointer<Float>, sigma2: Float,
                into weights: UnsafeMutablePointer<Float>) {
    for j in 0..<32 { weights[j] = qw[j] * (sigma2 + x[j] * x[j]).squareRoot() }
}

extension IQ4_NL: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_iq4_nl` (with or without importance weights).
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / 32) }
        let levels = iq4Levels
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { buffer in
            let weights = buffer.baseAddress!
            let blocksPerRow = rowLength / 32
            for r in 0..<rows {
                for b in 0..<blocksPerRow {
                    let x = src + (r &* rowLength &+ 32 &* b)
                    let block = dst + (r &* blocksPerRow &+ b) &* blockBytes
                    iq4Weights(x, importance + 32 &* b, sigma2: iq4Sigma2(32, x), into: weights)
                    let scale = iq4GroupScale(x, levels, weights: weights)
                    block.storeHalf(floatToHalf(scale), at: 0)
                    iq4PackGroup(x, inverseScale: scale != 0 ? 1 / scale : 0, levels, into: block + 2)
                }
            }
        }
    }
}

extension IQ4_XS: WeightedBlockQuantizer {
    /// Byte-identical with llama.cpp's `quantize_iq4_xs` (with or without importance weights).
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
                                rowLength: Int, importance: UnsafePointer<Float>?) {
        guard let importance else { return quantize(src, into: dst, blocks: rows &* rowLength / 256) }
        let levels = iq4Levels
        var scales = SIMD8<Float>()
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { buffer in
            let weights = buffer.baseAddress!
            let blocksPerRow = rowLength / 256
            for r in 0..<rows {
                for b in 0..<blocksPerRow {
                    let x = src + (r &* rowLength &+ 256 &* b)
                    let qw = importance + 256 &* b
                    let block = dst + (r &* blocksPerRow &+ b) &* blockBytes
                    let sigma2 = iq4Sigma2(256, x)
                    var amaxScale: Float = 0, maxScale: Float = 0
                    for g in 0..<8 {
                        iq4Weights(x + 32 &* g, qw + 32 &* g, sigma2: sigma2, into: weights)
                        let s = iq4GroupScale(x + 32 &* g, levels, weights: weights)
                        scales[g] = s
                        if s.magnitude > amaxScale { amaxScale = s.magnitude; maxScale = s }
                    }
                    storeSuperBlock(x, scales: scales, maxScale: maxScale, levels, into: block)
                }
            }
        }
    }

    /// The second half of `quantize_row_iq4_nl_impl` for a super-block: `d = −maxScale/32` as F16,
    /// each group's 6-bit scale `nearest_int(s/d)` clamped to −32…31, its levels nearest to
    /// `x/(d·ls)`.
    @inlinable @inline(__always)
    static func storeSuperBlock(_ x: UnsafePointer<Float>, scales: SIMD8<Float>, maxScale: Float,
                                _ levels: SIMD16<Float>, into block: UnsafeMutableRawPointer) {
        let d = -maxScale / 32
        block.storeHalf(floatToHalf(d), at: 0)
        let id: Float = d != 0 ? 1 / d : 0
        var scalesH: UInt16 = 0
        var scalesL: UInt32 = 0
        for g in 0..<8 {
            let l = Swift.max(-32, Swift.min(31, nearestInt(id * scales[g])))
            let dl = d * Float(l)
            iq4PackGroup(x + 32 &* g, inverseScale: dl != 0 ? 1 / dl : 0, levels, into: block + (8 &+ 16 &* g))
            let biased = UInt32(truncatingIfNeeded: l &+ 32)
            scalesL |= (biased & 0x0F) &<< (4 &* UInt32(g))
            scalesH |= UInt16(truncatingIfNeeded: biased &>> 4) &<< (2 &* UInt16(g))
        }
        block.storeBytes(of: scalesH.littleEndian, toByteOffset: 2, as: UInt16.self)
        block.storeBytes(of: scalesL.littleEndian, toByteOffset: 4, as: UInt32.self)
    }
}
