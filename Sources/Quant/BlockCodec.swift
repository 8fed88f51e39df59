import GGUF

/// Converts whole blocks of one ggml type between their bytes and `Float`.
///
/// Implementations are caseless enums with static, non-generic kernels: plain loops over raw pointers
/// that the compiler vectorizes, with no allocation. Callers validate sizes before entry; the kernels
/// trust `blocks`.
public protocol BlockCodec {
    /// The ggml type this codec reads and writes.
    static var type: GGMLType { get }

    /// Decodes `blocks` blocks at `src` into `blocks × type.blockSize` floats at `dst`.
    static func dequantize(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, blocks: Int)

    /// `(Σ (decoded − reference)², Σ reference²)` of `blocks` blocks at `src` against the
    /// `blocks × type.blockSize` floats at `reference`, compared as the blocks are decoded (nothing
    /// decoded is stored); nil, the default, where the codec has no such loop (`Codecs.squaredError`
    /// then decodes first).
    static func squaredError(_ src: UnsafeRawPointer, reference: UnsafePointer<Float>, blocks: Int) -> (error: Double, signal: Double)?
}

extension BlockCodec {
    public static func squaredError(_ src: UnsafeRawPointer, reference: UnsafePointer<Float>, blocks: Int) -> (error: Double, signal: Double)? {
        nil
    }
}

/// A codec that can also encode: what llama-quantize writes without an importance matrix.
public protocol BlockQuantizer: BlockCodec {
    /// Encodes `blocks × type.blockSize` floats at `src` into `blocks` blocks at `dst`.
    static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int)
}

/// A codec that quantizes as llama.cpp's `quantize_<type>(src, dst, nrows, n_per_row, quant_weights)`
/// does: row by row, with optional per-column importance weights (an importance matrix's entry for the
/// tensor). Types whose search uses the weights (K-quants, legacy, IQ types) conform; with
/// `importance == nil` the result is what llama-quantize writes without an importance matrix.
public protocol WeightedBlockQuantizer: BlockCodec {
    /// Whether ggml cannot quantize this type without an importance matrix (`ggml_quantize_requires_imatrix`:
    /// IQ2_XXS, IQ2_XS, IQ1_S). Which *tensors* llama-quantize refuses to write without one is a
    /// recipe rule (`QuantizationRecipe.requiresImportanceMatrix`): more types, never token_embd or output.
    static var requiresImportance: Bool { get }

    /// Encodes `rows` rows of `rowLength` floats at `src` (`rowLength` a multiple of the block size)
    /// into `rows × rowLength / blockSize` blocks at `dst`, weighting column `j` by `importance[j]`
    /// (`rowLength` values) when given.
    static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, rows: Int, rowLength: Int,
                         importance: UnsafePointer<Float>?)
}

extension WeightedBlockQuantizer {
    public static var requiresImportance: Bool { false }
}
