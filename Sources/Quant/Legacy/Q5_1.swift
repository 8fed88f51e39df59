import GGUF

/// `Q5_1`: blocks of 32 weights as an F16 scale `d`, an F16 minimum `m` and 32 5-bit quants
/// (`x = q·d + m`); 24 bytes.
///
/// Layout (`block_q5_1`): `d`, `m` (2 bytes each), `qh` (4 bytes, little-endian: bit `j` is the fifth
/// bit of element `j`), then 16 bytes whose low nibbles hold elements 0–15 and high nibbles 16–31.
public enum Q5_1: BlockQuantizer {
    public static var type: GGMLType { .q5_1 }

    @inlinable static var blockBytes: Int { 24 }

    /// Bit-exact with llama.cpp's `dequantize_row_q5_1` (`q·d + m`, two roundings, no FMA).
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let y = dst + i &* 32
            let d = block.loadHalf(at: 0)
            let m = block.loadHalf(at: 2)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let qs = block + 8
            for j in 0..<16 {
                let q = UInt32(qs.load(fromByteOffset: j, as: UInt8.self))
                let h0 = ((qh &>> UInt32(j)) &<< 4) & 0x10
                let h1 = (qh &>> UInt32(j &+ 12)) & 0x10
                y[j] = Float((q & 0x0F) | h0) * d + m
                y[j &+ 16] = Float((q &>> 4) | h1) * d + m
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_row_q5_1_ref`: `d = (max − min) / 31`,
    /// `q = (uint8)((x − min)/d + 0.5)` (no clamp), `m = min`.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        forEachBlockInLanes(blocks: blocks, divisor: 31, scan: { i in
            let x = src + i &* 32, (min, max) = minMax32(x)
            return (min, max, allFinite32(x))
        }, numerator: { min, max in max - min }) { i, min, max, finite, d, id in
            let x = src + i &* 32, block = dst + i &* blockBytes
            block.storeBytes(of: floatToHalf(d).littleEndian, as: UInt16.self)
            block.storeBytes(of: floatToHalf(min).littleEndian, toByteOffset: 2, as: UInt16.self)
            var qh: UInt32 = 0
            if finite && ((max - min) * id) < 0x1p21 {
                // 0 < (x − min)·id + 0.5 < 2²²: the truncation is a floor (no clamp: 255 is never reached).
                for j in 0..<16 {
                    let q0 = UInt8(truncatingIfNeeded: flooredLevel((x[j] - min) * id + 0.5, below: 255))
                    let q1 = UInt8(truncatingIfNeeded: flooredLevel((x[j &+ 16] - min) * id + 0.5, below: 255))
                    block.storeBytes(of: (q0 & 0x0F) | ((q1 & 0x0F) &<< 4), toByteOffset: 8 &+ j, as: UInt8.self)
                    qh |= (UInt32(q0 & 0x10) &>> 4) &<< UInt32(j)
                    qh |= (UInt32(q1 & 0x10) &>> 4) &<< UInt32(j &+ 16)
                }
            } else {
                for j in 0..<16 {
                    let q0 = UInt8(bitPattern: truncatingToInt8((x[j] - min) * id + 0.5))
                    let q1 = UInt8(bitPattern: truncatingToInt8((x[j &+ 16] - min) * id + 0.5))
                    block.storeBytes(of: (q0 & 0x0F) | ((q1 & 0x0F) &<< 4), toByteOffset: 8 &+ j, as: UInt8.self)
                    qh |= (UInt32(q0 & 0x10) &>> 4) &<< UInt32(j)
                    qh |= (UInt32(q1 & 0x10) &>> 4) &<< UInt32(j &+ 16)
                }
            }
            block.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }
}
