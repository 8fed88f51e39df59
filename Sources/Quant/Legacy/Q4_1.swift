import GGUF

/// `Q4_1`: blocks of 32 weights as an F16 scale `d`, an F16 minimum `m` and 32 4-bit quants
/// (`x = q·d + m`); 20 bytes.
///
/// Layout (`block_q4_1`): `d`, `m` (2 bytes each), then 16 bytes whose low nibbles hold elements
/// 0–15 and high nibbles elements 16–31.
public enum Q4_1: BlockQuantizer {
    public static var type: GGMLType { .q4_1 }

    @inlinable static var blockBytes: Int { 20 }

    /// Bit-exact with llama.cpp's `dequantize_row_q4_1` (`q·d + m`, two roundings, no FMA).
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let y = dst + i &* 32
            let d = block.loadHalf(at: 0)
            let m = block.loadHalf(at: 2)
            let qs = block + 4
            for j in 0..<16 {
                let q = qs.load(fromByteOffset: j, as: UInt8.self)
                y[j] = Float(q & 0x0F) * d + m
                y[j &+ 16] = Float(q &>> 4) * d + m
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_row_q4_1_ref`: `d = (max − min) / 15`,
    /// `q = min(15, (int8)((x − min)/d + 0.5))`, `m = min`.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        forEachBlockInLanes(blocks: blocks, divisor: 15, scan: { i in
            let x = src + i &* 32, (min, max) = minMax32(x)
            return (min, max, allFinite32(x))
        }, numerator: { min, max in max - min }) { i, min, max, finite, d, id in
            let x = src + i &* 32, block = dst + i &* blockBytes
            block.storeBytes(of: floatToHalf(d).littleEndian, as: UInt16.self)
            block.storeBytes(of: floatToHalf(min).littleEndian, toByteOffset: 2, as: UInt16.self)
            if finite && ((max - min) * id) < 0x1p21 {
                // 0 < (x − min)·id + 0.5 < 2²²: the truncation is a floor, which the vectorizable one computes exactly.
                for j in 0..<16 {
                    let q0 = UInt8(truncatingIfNeeded: flooredLevel((x[j] - min) * id + 0.5, below: 15))
                    let q1 = UInt8(truncatingIfNeeded: flooredLevel((x[j &+ 16] - min) * id + 0.5, below: 15))
                    block.storeBytes(of: q0 | (q1 &<< 4), toByteOffset: 4 &+ j, as: UInt8.self)
                }
            } else {
                for j in 0..<16 {
                    let q0 = UInt8(truncatingIfNeeded: Swift.min(15, Int32(truncatingToInt8((x[j] - min) * id + 0.5))))
                    let q1 = UInt8(truncatingIfNeeded: Swift.min(15, Int32(truncatingToInt8((x[j &+ 16] - min) * id + 0.5))))
                    block.storeBytes(of: q0 | (q1 &<< 4), toByteOffset: 4 &+ j, as: UInt8.self)
                }
            }
        }
    }
}
