import GGUF

/// `Q5_0`: blocks of 32 weights as an F16 scale `d` and 32 5-bit quants (`x = (q − 16)·d`); 22 bytes.
///
/// Layout (`block_q5_0`): `d` (2 bytes), `qh` (4 bytes, little-endian: bit `j` is the fifth bit of
/// element `j`), then 16 bytes whose low nibbles hold elements 0–15 and high nibbles elements 16–31.
public enum Q5_0: BlockQuantizer {
    public static var type: GGMLType { .q5_0 }

    @inlinable static var blockBytes: Int { 22 }

    /// Bit-exact with llama.cpp's `dequantize_row_q5_0`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let y = dst + i &* 32
            let d = block.loadHalf(at: 0)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let qs = block + 6
            for j in 0..<16 {
                let q = UInt32(qs.load(fromByteOffset: j, as: UInt8.self))
                let h0 = ((qh &>> UInt32(j)) &<< 4) & 0x10
                let h1 = (qh &>> UInt32(j &+ 12)) & 0x10
                y[j] = Float(Int32(bitPattern: (q & 0x0F) | h0) &- 16) * d
                y[j &+ 16] = Float(Int32(bitPattern: (q &>> 4) | h1) &- 16) * d
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_row_q5_0_ref`: `d = max / −16` where `max` is the
    /// first element of largest magnitude, `q = min(31, (int8)(x/d + 16.5))`.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        forEachBlockInLanes(blocks: blocks, divisor: -16, scan: { scanAbsMax32(src + $0 &* 32) },
                            numerator: { _, max in max }) { i, amax, _, finite, d, id in
            let x = src + i &* 32, block = dst + i &* blockBytes
            block.storeBytes(of: floatToHalf(d).littleEndian, as: UInt16.self)
            var qh: UInt32 = 0
            if finite && (amax * id.magnitude) < 0x1p21 {
                // 0 < x·id + 16.5 < 2²².
                for j in 0..<16 {
                    let q0 = UInt8(truncatingIfNeeded: flooredLevel(x[j] * id + 16.5, below: 31))
                    let q1 = UInt8(truncatingIfNeeded: flooredLevel(x[j &+ 16] * id + 16.5, below: 31))
                    block.storeBytes(of: (q0 & 0x0F) | ((q1 & 0x0F) &<< 4), toByteOffset: 6 &+ j, as: UInt8.self)
                    qh |= (UInt32(q0 & 0x10) &>> 4) &<< UInt32(j)
                    qh |= (UInt32(q1 & 0x10) &>> 4) &<< UInt32(j &+ 16)
                }
            } else {
                for j in 0..<16 {
                    let q0 = UInt8(truncatingIfNeeded: Swift.min(31, Int32(truncatingToInt8(x[j] * id + 16.5))))
                    let q1 = UInt8(truncatingIfNeeded: Swift.min(31, Int32(truncatingToInt8(x[j &+ 16] * id + 16.5))))
                    block.storeBytes(of: (q0 & 0x0F) | ((q1 & 0x0F) &<< 4), toByteOffset: 6 &+ j, as: UInt8.self)
                    qh |= (UInt32(q0 & 0x10) &>> 4) &<< UInt32(j)
                    qh |= (UInt32(q1 & 0x10) &>> 4) &<< UInt32(j &+ 16)
                }
            }
            block.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
        }
    }
}
