import GGUF

/// `Q4_0`: blocks of 32 weights as an F16 scale `d` and 32 4-bit quants (`x = (q − 8)·d`); 18 bytes.
///
/// Layout (`block_q4_0`): `d` (2 bytes), then 16 bytes whose low nibbles hold elements 0–15 and high
/// nibbles elements 16–31.
public enum Q4_0: BlockQuantizer {
    public static var type: GGMLType { .q4_0 }

    @inlinable static var blockBytes: Int { 18 }

    /// Bit-exact with llama.cpp's `dequantize_row_q4_0`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let y = dst + i &* 32
            let d = block.loadHalf(at: 0)
            let qs = block + 2
            for j in 0..<16 {
                let q = qs.load(fromByteOffset: j, as: UInt8.self)
                y[j] = Float(Int32(q & 0x0F) &- 8) * d
                y[j &+ 16] = Float(Int32(q &>> 4) &- 8) * d
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_row_q4_0_ref` (what llama-quantize writes without an
    /// importance matrix): `d = max / −8` where `max` is the first element of largest magnitude,
    /// `q = min(15, (int8)(x/d + 8.5))`. An all-zero block stores `d = −0.0`. Non-finite inputs give
    /// what ggml gives on x86-64 (see ``truncatingToInt8(_:)``).
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        forEachBlockInLanes(blocks: blocks, divisor: -8, scan: { scanAbsMax32(src + $0 &* 32) },
                            numerator: { _, max in max }) { i, amax, _, finite, d, id in
            quantizeBlock(src + i &* 32, into: dst + i &* blockBytes, amax: amax, finite: finite, d: d, id: id)
        }
    }

    @inlinable @inline(__always)
    static func quantizeBlock(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer, amax: Float, finite: Bool, d: Float, id: Float) {
        block.storeBytes(of: floatToHalf(d).littleEndian, as: UInt16.self)
        if finite && (amax * id.magnitude) < 0x1p21 {
            // 0 < x·id + 8.5 < 2²².
            let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                let q0 = flooredLevel(x[j] * id + 8.5, below: 15), q1 = flooredLevel(x[j &+ 16] * id + 8.5, below: 15)
                qs[j] = UInt8(truncatingIfNeeded: q0 | (q1 &<< 4))
            }
        } else {
            for j in 0..<16 {
                let q0 = UInt8(truncatingIfNeeded: Swift.min(15, Int32(truncatingToInt8(x[j] * id + 8.5))))
                let q1 = UInt8(truncatingIfNeeded: Swift.min(15, Int32(truncatingToInt8(x[j &+ 16] * id + 8.5))))
                block.storeBytes(of: q0 | (q1 &<< 4), toByteOffset: 2 &+ j, as: UInt8.self)
            }
        }
    }
}
