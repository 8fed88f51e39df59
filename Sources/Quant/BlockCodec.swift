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
}

/// A codec that can also encode: what llama-quantize writes without an importance matrix.
public protocol BlockQuantizer: BlockCodec {
    /// Encodes `blocks × type.blockSize` floats at `src` into `blocks` blocks at `dst`.
    static func quantize(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int)
}
