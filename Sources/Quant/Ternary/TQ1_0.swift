import GGUF

/// `TQ1_0`: ternary super-blocks of 256 weights, `x = (q − 1)·d` with `q ∈ {0, 1, 2}` packed five (or
/// four) trits a byte, and an F16 scale `d`; 54 bytes (1.6875 bpw).
///
/// Layout (`block_tq1_0`): `qs[48]`, `qh[4]`, `d`. A byte holds trits `t₀…t₄` (most significant first)
/// as `⌈(Σ tₙ·3⁴⁻ⁿ)·256 / 243⌉`, so trit `n` is `⌊((byte·3ⁿ) mod 256)·3 / 256⌋`. `qs[0..<32]` hold
/// elements `32·n + m` (byte `m`), `qs[32..<48]` elements `160 + 16·n + m`, and `qh[j]` elements
/// `240 + 4·n + j` for n = 0…3 (its fifth trit is 0).
public enum TQ1_0: BlockQuantizer {
    public static var type: GGMLType { .tq1_0 }

    @inlinable static var blockBytes: Int { 54 }

    /// Bit-exact with llama.cpp's `dequantize_row_tq1_0`.
    @inlinable
    public static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for i in 0..<blocks {
            let block = src + i &* blockBytes
            let d = block.loadHalf(at: 52)
            let y = dst + i &* 256
            decodeRun(block, 5, into: y, stride: 32, d)
            decodeRun(block + 16, 5, into: y + 16, stride: 32, d)
            decodeRun(block + 32, 5, into: y + 160, stride: 16, d)
            // The last 4 bytes hold 4 trits each, element 240 + 4·n + m being trit n of byte m: the
            // bytes four times over, times 3ⁿ.
            let last = SIMD4<UInt32>(repeating: block.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
            let (low, high) = ByteLanes.widen(unsafeBitCast(last, to: SIMD16<UInt8>.self))
            let a = ((low &* SIMD8(1, 1, 1, 1, 3, 3, 3, 3)) & 0xFF) &* 3, b = ((high &* SIMD8(9, 9, 9, 9, 27, 27, 27, 27)) & 0xFF) &* 3
            ByteLanes(words: a &>> 8, b &>> 8, minus: 0x1p23 + 1).store(times: d, to: y + 240)
        }
    }

    /// Sixteen bytes of `trits` trits each; trit `n` of byte `m` is element `m + stride·n`: ggml's
    /// `((uint8_t)(q·3ⁿ)·3) >> 8`, less one, in 16-bit lanes, where `(uint8_t)(q·3ⁿ⁺¹)` is the low
    /// byte of the same `(uint8_t)(q·3ⁿ)·3`.
    @inlinable @inline(__always)
    static func decodeRun(_ bytes: UnsafeRawPointer, _ trits: Int, into y: UnsafeMutablePointer<Float>,
                          stride: Int, _ d: Float) {
        var (low, high) = ByteLanes.widen(bytes.loadUnaligned(as: SIMD16<UInt8>.self))
        for n in 0..<trits {
            low &*= 3
            high &*= 3
            ByteLanes(words: low &>> 8, high &>> 8, minus: 0x1p23 + 1).store(times: d, to: y + stride &* n)
            low &= 0xFF
            high &= 0xFF
        }
    }

    /// Byte-identical with llama.cpp's `quantize_row_tq1_0_ref` (what llama-quantize writes for TQ1_0):
    /// `d = max|x|` (as ggml's `MAX` scan finds it), trits `lroundf(x/d) + 1` with `x/d` computed as
    /// `x·(1/d)`. Non-finite inputs give what ggml gives on x86-64.
    @inlinable
    public static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
        for i in 0..<blocks {
            let x = src + i &* 256
            let block = dst + i &* blockBytes
            let (d, finite) = ternaryScale(x)
            let id: Float = d != 0 ? 1 / d : 0
            block.storeHalf(floatToHalf(d), at: 52)
            if finite && id.isFinite {
                // |x·id| ≤ 1 (up to rounding): the branch-free rounding is exact.
                pack(x, id, into: block, roundedSmall)
            } else {
                pack(x, id, into: block, roundedToInt32)
            }
        }
    }

    @inlinable @inline(__always)
    static func pack(_ x: UnsafePointer<Float>, _ id: Float, into block: UnsafeMutableRawPointer,
                     _ round: (Float) -> Int32) {
        packRun(x, id, 32, 5, into: block, round)
        packRun(x + 160, id, 16, 5, into: block + 32, round)
        packRun(x + 240, id, 4, 4, into: block + 48, round)
    }

    /// `count` bytes of `trits` trits each; byte `m` takes elements `m + count·n`. Four-trit bytes are
    /// shifted up one trit, as ggml does for `qh`.
    @inlinable @inline(__always)
    static func packRun(_ x: UnsafePointer<Float>, _ id: Float, _ count: Int, _ trits: Int,
                        into out: UnsafeMutableRawPointer, _ round: (Float) -> Int32) {
        for m in 0..<count {
            var q: UInt8 = 0
            for n in 0..<trits {
                let xi = round(x[m &+ count &* n] * id) &+ 1
                q = q &* 3 &+ UInt8(truncatingIfNeeded: xi)
            }
            if trits == 4 { q &*= 3 }
            // Ceiling division by 243 = 3⁵, in 16 bits, keeping the low byte as ggml's store does.
            let packed = (UInt16(q) &* 256 &+ 242) / 243
            out.storeBytes(of: UInt8(truncatingIfNeeded: packed), toByteOffset: m, as: UInt8.self)
        }
    }
}
