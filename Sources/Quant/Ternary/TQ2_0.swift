import GGUF

/// `TQ2_0`: ternary super-blocks of 256 weights, `x = (q − 1)·d` with 2-bit `q ∈ {0, 1, 2}` and an F16
/// scale `d`; 66 bytes (2.0625 bpw).
///
/// Layout (`block_tq2_0`): `qs[64]`, then `d`. Byte `32·c + m` holds element `128·c + 32·n + m` in bits
/// `2n…2n+1` (n = 0…3).
public enum TQ2_0: BlockQuantizer {
    public static var type: GGMLType { .tq2_0 }

    @inlinable static var blockBytes: Int { 66 }

    /// Bit-exact with llama.cpp's `dequantize_row_tq2_0`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let d = block.loadHalf(at: 64)
            for c in 0..<2 {
                let qs = block + 32 &* c
                for n in 0..<4 {
                    let y = dst + (i &* 256 &+ 128 &* c &+ 32 &* n)
                    let shift = UInt8(2 &* n)
                    for m in 0..<32 {
                        let q = qs.load(fromByteOffset: m, as: UInt8.self) &>> shift & 3
                        y[m] = Float(Int32(q) &- 1) * d
                    }
                }
            }
        }
    }

    /// Byte-identical with llama.cpp's `quantize_row_tq2_0_ref` (what llama-quantize writes for TQ2_0):
    /// `d = max|x|` (as ggml's `MAX` scan finds it), `q = lroundf(x/d) + 1` with `x/d` computed as
    /// `x·(1/d)`. Non-finite inputs give what ggml gives on x86-64.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        for i in 0..<blocks {
            let x = src + i &* 256
            let block = dst + i &* blockBytes
            let (d, finite) = ternaryScale(x)
            let id: Float = d != 0 ? 1 / d : 0
            block.storeHalf(floatToHalf(d), at: 64)
            if finite && id.isFinite {
                // |x·id| ≤ 1 (up to rounding): the vectorizable rounding is exact.
                pack(x, id, into: block, roundedSmall)
            } else {
                pack(x, id, into: block, roundedToInt32)
            }
        }
    }

    @inlinable @inline(__always)
    static func pack(_ x: UnsafePointer<Float>, _ id: Float, into block: UnsafeMutableRawPointer,
                     _ round: (Float) -> Int32) {
        for c in 0..<2 {
            for m in 0..<32 {
                var q: UInt8 = 0
                for n in 0..<4 {
                    let xi = round(x[128 &* c &+ 32 &* n &+ m] * id) &+ 1
                    q &+= UInt8(truncatingIfNeeded: xi & 3) &<< UInt8(2 &* n)
                }
                block.storeBytes(of: q, toByteOffset: 32 &* c &+ m, as: UInt8.self)
            }
        }
    }
}

/// `max|x|` over 256 floats as ggml's ternary quantizers scan it (`amax = MAX(amax, fabsf(v))`, which
/// keeps a NaN only when it comes last, and then only until a later element replaces it), and whether
/// all 256 are finite.
@inlinable @inline(__always)
func ternaryScale(_ x: UnsafePointer<Float>) -> (amax: Float, allFinite: Bool) {
    var amax: Float = 0
    var special: UInt32 = 0
    for j in 0..<256 {
        let a = x[j].magnitude
        amax = amax > a ? amax : a
        special |= (x[j].bitPattern & 0x7F80_0000) &+ 0x0080_0000
    }
    return (amax, special & 0x8000_0000 == 0)
}
