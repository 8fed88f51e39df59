/// Runs `body` on every block of `rows` rows of `rowLength` floats: the source block, its destination,
/// the importance weights of its columns (`importance + column`), and the row it belongs to. The row
/// loop of llama.cpp's `quantize_<type>(src, dst, nrow, n_per_row, quant_weights)`: each row's blocks
/// take the weights of the same columns.
@inline(__always)
internal func forEachBlock(
    rows: Int, rowLength: Int, blockSize: Int, blockBytes: Int,
    _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, importance: UnsafePointer<Float>,
    _ body: (_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer, _ qw: UnsafePointer<Float>,
             _ row: UnsafePointer<Float>) -> Void
) {
    let blocksPerRow = rowLength / blockSize
    for r in 0..<rows {
        let row = src + r &* rowLength
        let rowDst = dst + r &* blocksPerRow &* blockBytes
        for b in 0..<blocksPerRow {
            body(row + b &* blockSize, rowDst + b &* blockBytes, importance + b &* blockSize, row)
        }
    }
}
