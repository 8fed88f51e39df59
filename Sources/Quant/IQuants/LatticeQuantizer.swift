/// The IQ1–IQ3 quantizers: rows of 256-weight super-blocks, each fitted on a lattice grid
/// (`LatticeSearch`, built once per process) with scratch allocated once per call, as llama.cpp's
/// `quantize_iq*` run `quantize_row_iq*_impl` row by row.
protocol LatticeQuantizer: WeightedBlockQuantizer {
    /// Bytes of one super-block.
    static var blockBytes: Int { get }
    /// The grid this type's groups are searched on.
    static var search: LatticeSearch { get }
    /// Quantizes the 256 values at `xbl` into `block` with their importance weights (nil: ggml's
    /// unweighted path; the types that `requiresImportance` always get weights).
    static func quantizeBlock(_ xbl: UnsafePointer<Float>, _ quantWeights: UnsafePointer<Float>?, _ search: LatticeSearch,
                              _ s: IQScratch, into block: UnsafeMutableRawPointer)
}

extension LatticeQuantizer {
    /// `rows` rows of `rowLength` values, super-block by super-block, with `importance` (`rowLength`
    /// weights) when given.
    static func quantizeRows(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int, rowLength: Int,
                             importance: UnsafePointer<Float>?) {
        let scratch = IQScratch(rowLength: rowLength, importance: importance)
        // ggml asserts that these types get weights; without a matrix here, every column weighs 1.
        let weights = requiresImportance ? scratch.weights : importance
        let search = self.search
        for row in 0..<rows {
            for ibl in 0..<rowLength / 256 {
                quantizeBlock(src + (row * rowLength + 256 * ibl), weights.map { $0 + 256 * ibl }, search, scratch,
                              into: dst + (row * rowLength / 256 + ibl) * blockBytes)
            }
        }
    }
}
