/// Runs `body` on every 32-element block of `rows` rows of `rowLength` floats with the block's
/// element weights `qw[j]·√(σ² + x[j]²)`, σ² the row's mean square: the row loop shared by llama.cpp's
/// `quantize_row_q4_0_impl`, `…q4_1_impl`, `…q5_0_impl` and `…q5_1_impl` with importance weights.
@inline(__always)
internal func forEachWeightedLegacyBlock(
    rows: Int, rowLength: Int, blockBytes: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer,
    importance: UnsafePointer<Float>,
    _ body: (_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer, _ weights: UnsafePointer<Float>) -> Void
) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { buffer in
        let weights = buffer.baseAddress!
        for r in 0..<rows {
            let row = src + r &* rowLength
            let sigma2 = sumOfSquares(rowLength, row) / Float(rowLength)
            let blocks = rowLength / 32
            for b in 0..<blocks {
                importanceWeights(32, row + 32 &* b, importance: importance + 32 &* b, sigma2: sigma2, into: weights)
                body(row + 32 &* b, dst + (r &* blocks &+ b) &* blockBytes, weights)
            }
        }
    }
}

/// Packs 32 levels below 16 as legacy blocks do: byte `j` holds level `j` in its low nibble and level
/// `j + 16` in its high nibble.
@inline(__always)
internal func packNibbles32(_ levels: UnsafePointer<UInt8>, into qs: UnsafeMutableRawPointer) {
    for j in 0..<16 {
        qs.storeBytes(of: (levels[j] & 0x0F) | ((levels[j &+ 16] & 0x0F) &<< 4), toByteOffset: j, as: UInt8.self)
    }
}

/// The fifth bits of 32 levels as legacy 5-bit blocks store them (`qh`, little-endian): bit `j` is
/// bit 4 of level `j`.
@inline(__always)
internal func fifthBits32(_ levels: UnsafePointer<UInt8>) -> UInt32 {
    var qh: UInt32 = 0
    for j in 0..<32 { qh |= UInt32((levels[j] & 0x10) &>> 4) &<< UInt32(j) }
    return qh
}

/// The weighted path of `quantize_row_q4_0_impl` and `…q5_0_impl`: each block fitted by
/// `make_qx_quants(32, nmax, …, 1, weights)`; its scale goes to bytes 0..<2 as F16 and `pack` stores
/// the 32 levels (`0 ..< 2·nmax`) after it.
@inline(__always)
internal func quantizeWeightedSymmetric(
    nmax: Int, blockBytes: Int, _ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
    rowLength: Int, importance: UnsafePointer<Float>,
    pack: (_ levels: UnsafePointer<UInt8>, _ block: UnsafeMutableRawPointer) -> Void
) {
    withUnsafeTemporaryAllocation(of: Int8.self, capacity: 32) { buffer in
        let signed = buffer.baseAddress!
        forEachWeightedLegacyBlock(rows: rows, rowLength: rowLength, blockBytes: blockBytes, src, dst,
                                   importance: importance) { x, block, weights in
            let d = makeQXQuants(32, nmax, x, signed, weights: weights)
            block.storeHalf(floatToHalf(d), at: 0)
            signed.withMemoryRebound(to: UInt8.self, capacity: 32) { levels in pack(levels, block) }
        }
    }
}

/// The weighted path of `quantize_row_q4_1_impl` and `…q5_1_impl`: each block fitted by
/// `make_qkx3_quants(32, nmax, …, -0.9, 0.05, 36, false)`; the scale and minus the fitted minimum go
/// to bytes 0..<4 as F16 and `pack` stores the 32 levels (`0 ... nmax`) after them.
@inline(__always)
internal func quantizeWeightedAsymmetric(
    nmax: Int, blockBytes: Int, _ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int,
    rowLength: Int, importance: UnsafePointer<Float>,
    pack: (_ levels: UnsafePointer<UInt8>, _ block: UnsafeMutableRawPointer) -> Void
) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
        let levels = buffer.baseAddress!
        forEachWeightedLegacyBlock(rows: rows, rowLength: rowLength, blockBytes: blockBytes, src, dst,
                                   importance: importance) { x, block, weights in
            let (d, min) = makeQKX3Quants(32, nmax, x, weights: weights, levels, scratch: levels + 32,
                                          rmin: -0.9, rdelta: 0.05, nstep: 36, useMad: false)
            block.storeHalf(floatToHalf(d), at: 0)
            block.storeHalf(floatToHalf(-min), at: 2)
            pack(levels, block)
        }
    }
}
