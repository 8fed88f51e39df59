#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import GGUF

/// `MXFP4` (OCP microscaling FP4): blocks of 32 weights as a shared E8M0 exponent `e` and 32 4-bit
/// E2M1 codes, `x = kvalues_mxfp4[q]·2^(e − 128)` (the table holds twice the E2M1 values); 17 bytes
/// (4.25 bpw).
///
/// Layout (`block_mxfp4`): `e`, then 16 bytes whose low nibbles hold elements 0–15 and high nibbles
/// elements 16–31.
public enum MXFP4: BlockQuantizer {
    public static var type: GGMLType { .mxfp4 }

    @inlinable static var blockBytes: Int { 17 }

    /// ggml's `kvalues_mxfp4` (`kvalues_fp4`): E2M1 values, doubled.
    @inlinable static var levels: SIMD16<Float> { [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12] }

    /// ggml's `GGML_E8M0_TO_FP32_HALF`: `2^(e − 128)`, as the bit pattern ggml builds (subnormal for e < 2).
    @inlinable @inline(__always)
    static func halfScale(_ e: UInt8) -> Float {
        Float(bitPattern: e < 2 ? UInt32(0x0020_0000) &<< UInt32(e) : UInt32(e &- 1) &<< 23)
    }

    /// Bit-exact with llama.cpp's `dequantize_row_mxfp4`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        let levels = levels
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 1) { table in
            // The block's sixteen values, `kvalues_mxfp4[q]·d` as ggml rounds them, then one look-up
            // per code.
            let values = UnsafeMutableRawPointer(table.baseAddress!).assumingMemoryBound(to: Float.self)
            for i in 0..<blocks {
                let block = src + i &* blockBytes
                let y = dst + i &* 32
                table[0] = levels * halfScale(block.load(as: UInt8.self))
                for j in 0..<16 {
                    let q = block.load(fromByteOffset: 1 &+ j, as: UInt8.self)
                    y[j] = values[Int(q & 0x0F)]
                    y[j &+ 16] = values[Int(q &>> 4)]
                }
            }
        }
    }

    /// The shared exponent `quantize_row_mxfp4_ref` picks for a block whose largest magnitude is `amax`:
    /// `(uint8_t)(floorf(log2f(amax)) − 2 + 127)`, 0 for an all-zero block (libm's `log2f`, as ggml).
    @usableFromInline
    static func exponent(_ amax: Float) -> UInt8 {
        amax > 0 ? UInt8(truncatingIfNeeded: truncatingToInt32(floorf(log2f(amax)) - 2 + 127)) : 0
    }

    /// ggml's `best_index_mxfp4`: the first code whose value times `e` is nearest to `x`.
    @inlinable @inline(__always)
    static func nearestCode(_ x: Float, _ e: Float, _ levels: SIMD16<Float>) -> UInt8 {
        var best: UInt8 = 0
        var bestError = (levels[0] * e - x).magnitude
        for k in 1..<16 {
            let error = (levels[k] * e - x).magnitude
            if error < bestError {
                best = UInt8(truncatingIfNeeded: k)
                bestError = error
            }
        }
        return best
    }

    /// Byte-identical with llama.cpp's `quantize_row_mxfp4_ref` (what `quantize_mxfp4` runs; it ignores
    /// an importance matrix): the exponent of ``exponent(_:)``, each element the nearest code.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        let levels = levels
        for i in 0..<blocks {
            let x = src + i &* 32
            let block = dst + i &* blockBytes
            var amax: Float = 0
            for j in 0..<32 where amax < x[j].magnitude {
                amax = x[j].magnitude
            }
            let e = exponent(amax)
            block.storeBytes(of: e, as: UInt8.self)
            let d = halfScale(e)
            for j in 0..<16 {
                let lo = nearestCode(x[j], d, levels)
                let hi = nearestCode(x[j &+ 16], d, levels)
                block.storeBytes(of: lo | hi &<< 4, toByteOffset: 1 &+ j, as: UInt8.self)
            }
        }
    }
}
