import GGUF

/// `Q8_0`: blocks of 32 weights as an F16 scale `d` and 32 signed 8-bit quants (`x = q·d`); 34 bytes.
///
/// Layout (`block_q8_0`): `d` (2 bytes), then the 32 quants as `Int8`.
public enum Q8_0: BlockQuantizer {
    public static var type: GGMLType { .q8_0 }

    @inlinable static var blockBytes: Int { 34 }

    /// Bit-exact with llama.cpp's `dequantize_row_q8_0`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let y = dst + i &* 32
            let d = block.loadHalf(at: 0)
            ByteLanes(signed: block.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)).store(times: d, to: y)
            ByteLanes(signed: block.loadUnaligned(fromByteOffset: 18, as: SIMD16<UInt8>.self)).store(times: d, to: y + 16)
        }
    }

    @inlinable
    public static func squaredError(_ src: UnsafeRawPointer, reference: UnsafePointer<Float>, blocks: Int) -> (error: Double, signal: Double)? {
        var sums = ErrorSums()
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let d = block.loadHalf(at: 0)
            @inline(__always) func floats(_ offset: Int) -> SIMD16<Float> {
                let q = ByteLanes(signed: block.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self))
                return SIMD16(lowHalf: SIMD8(lowHalf: q.v0, highHalf: q.v1), highHalf: SIMD8(lowHalf: q.v2, highHalf: q.v3)) * d
            }
            sums.add((floats(2), floats(18)), reference.load32(at: i &* 32))
        }
        return sums.totals
    }

    /// `(Σ x², Σ y², Σ x·y)` over two runs of `blocks` blocks, in `Double`, read from the blocks as
    /// stored: each block's integer sums of quant products times its scales. Every term is the one a
    /// sum over the decoded values has (`x = q·d` is exact in `Float`, and so is each product in
    /// `Double`); only the order of the additions differs.
    @inlinable
    public static func pairSums(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> (xx: Double, yy: Double, xy: Double) {
        var xx = 0.0, yy = 0.0, xy = 0.0
        for i in 0..<blocks {
            let a = x + i &* blockBytes, b = y + i &* blockBytes
            var aa: Int32 = 0, bb: Int32 = 0, ab: Int32 = 0
            for j in 2..<34 {
                let p = Int32(a.load(fromByteOffset: j, as: Int8.self)), q = Int32(b.load(fromByteOffset: j, as: Int8.self))
                aa &+= p &* p
                bb &+= q &* q
                ab &+= p &* q
            }
            let da = Double(a.loadHalf(at: 0)), db = Double(b.loadHalf(at: 0))
            xx += Double(aa) * (da * da)
            yy += Double(bb) * (db * db)
            xy += Double(ab) * (da * db)
        }
        return (xx, yy, xy)
    }

    /// Byte-identical with llama.cpp's `quantize_row_q8_0_ref`: `d = amax / 127`,
    /// `q = roundf(x/d)` (half away from zero — not `nearest_int`); scales eight blocks at a time
    /// (`forEachBlockInLanes`).
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        forEachBlockInLanes(blocks: blocks, divisor: 127, scan: { i in
            let largest = largestMagnitudeBits32(src + i &* 32)
            return (Float(bitPattern: largest), 0, largest < 0x7F80_0000)
        }, numerator: { amax, _ in amax }) { i, amax, _, finite, d, id in
            let x = src + i &* 32, block = dst + i &* blockBytes
            guard finite else { return quantizeNonFinite(x, into: block) }
            quantizeBlock(x, into: block, amax: amax, d: d, id: id)
        }
    }

    /// One finite block, given its largest magnitude and the scale and inverse computed from it.
    @inlinable @inline(__always)
    static func quantizeBlock(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer, amax: Float, d: Float, id: Float) {
        block.storeBytes(of: floatToHalf(d).littleEndian, as: UInt16.self)
        if (amax * id) < 0x1p21 {
            // |x·id| < 2²²: adding 1.5·2²³ rounds to the nearest integer, ties to even, and leaves it
            // in the low bits (the low byte is the int8). `roundf` differs only on an exact tie
            // (a fraction of ±0.5), which sends the block through `roundedSmall`.
            var ties: UInt32 = 0
            for j in 0..<32 {
                let v = x[j] * id, shifted = v + 12_582_912
                ties |= (v - (shifted - 12_582_912)).magnitude == 0.5 ? 1 : 0
                block.storeBytes(of: UInt8(truncatingIfNeeded: shifted.bitPattern), toByteOffset: 2 &+ j, as: UInt8.self)
            }
            if ties == 0 { return }
            for j in 0..<32 {
                block.storeBytes(of: Int8(truncatingIfNeeded: roundedSmall(x[j] * id)), toByteOffset: 2 &+ j, as: Int8.self)
            }
        } else {
            for j in 0..<32 {
                block.storeBytes(of: Int8(truncatingIfNeeded: roundedToInt32(x[j] * id)), toByteOffset: 2 &+ j, as: Int8.self)
            }
        }
    }

    /// A block with an infinity or a NaN, as ggml's scalar loop does it.
    @inlinable @inline(never)
    static func quantizeNonFinite(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 {
            let v = x[j].magnitude
            amax = amax > v ? amax : v // ggml's MAX(a, b), NaN behaviour included
        }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        block.storeBytes(of: floatToHalf(d).littleEndian, as: UInt16.self)
        for j in 0..<32 {
            block.storeBytes(of: Int8(truncatingIfNeeded: roundedToInt32(x[j] * id)), toByteOffset: 2 &+ j, as: Int8.self)
        }
    }
}
