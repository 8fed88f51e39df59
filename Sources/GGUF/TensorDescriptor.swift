/// What the writer needs to know about an output tensor before its data exists.
///
/// The writer stores `shape.count` as `n_dims`, so a descriptor taken from a read `TensorInfo`
/// writes back identically. llama.cpp's own writer stores `ggml_n_dims` instead (trailing 1s
/// dropped, at least one dimension): use `droppingTrailingOnes()` to match files it writes, e.g.
/// llama-quantize's output for a tensor that came in as `[256, 1]`.
public struct TensorDescriptor: Sendable, Equatable, Hashable {
    /// The tensor's name (at most 63 UTF-8 bytes).
    public var name: String
    /// Dimensions in ggml order, 1 to 4 of them, each ≥ 1.
    public var shape: [Int]
    /// The ggml type of the data.
    public var type: GGMLType
    /// Bytes of data (`ggml_nbytes`), or 0 when the shape is not valid for the type (the writer
    /// rejects such descriptors with an error naming the tensor).
    public let byteCount: Int

    public init(name: String, shape: [Int], type: GGMLType) {
        self.name = name
        self.shape = shape
        self.type = type
        self.byteCount = Self.byteCount(shape: shape, type: type) ?? 0
    }

    /// This descriptor with trailing dimensions of 1 removed (keeping at least one), as
    /// llama.cpp's `gguf_write_to_file` stores shapes (`ggml_n_dims`).
    public func droppingTrailingOnes() -> TensorDescriptor {
        var dims = shape
        while dims.count > 1, dims.last == 1 { dims.removeLast() }
        return TensorDescriptor(name: name, shape: dims, type: type)
    }

    /// Bytes taken by a tensor of this shape and type, or nil if the shape is empty, has more than
    /// four dimensions, a dimension < 1, a row length that is not a multiple of the block size, or
    /// a size that overflows.
    static func byteCount(shape: [Int], type: GGMLType) -> Int? {
        guard (1...4).contains(shape.count), shape.allSatisfy({ $0 >= 1 }) else { return nil }
        var elements = 1
        for d in shape {
            let (p, o) = elements.multipliedReportingOverflow(by: d)
            if o { return nil }
            elements = p
        }
        guard shape[0] % type.blockSize == 0 else { return nil }
        return type.byteCount(elements: elements)
    }
}
