// Reading the IQ grids of ggml-common.h (Sources/Quant/IQuants/Grids): each point packs 8 (or 4)
// magnitudes, element j in byte j, and a sign byte flips the elements whose bits are set.

/// Element `j` of an IQ2/IQ3 grid point, a magnitude (`(const uint8_t *)(grid + index)[j]` in ggml).
@inlinable @inline(__always)
func gridMagnitude<Point: FixedWidthInteger>(_ point: Point, _ j: Int) -> Float {
    Float(UInt8(truncatingIfNeeded: point &>> (8 &* j)))
}

/// ggml's `signs & kmask_iq2xs[j] ? -1.f : 1.f`: the factor bit `j` of `signs` stands for.
@inlinable @inline(__always)
func signFactor(_ signs: UInt8, _ j: Int) -> Float {
    signs & (1 &<< UInt8(j)) != 0 ? -1 : 1
}

/// Writes the 8 values `scale · grid[j] · sign[j]` of one IQ2-style group, as ggml's dequantizers do.
@inlinable @inline(__always)
func writeSignedGroup(_ point: UInt64, signs: UInt8, scale: Float, into y: UnsafeMutablePointer<Float>) {
    for j in 0..<8 {
        y[j] = scale * gridMagnitude(point, j) * signFactor(signs, j)
    }
}
