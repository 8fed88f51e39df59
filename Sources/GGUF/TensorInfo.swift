/// A tensor's entry in a GGUF file: name, shape, type and where its data lies.
///
/// `shape` is in ggml order (`ne[0]`, the row length, first) and has exactly the `n_dims` entries
/// stored in the file, so trailing 1s a writer kept are kept here too. The parser guarantees every
/// dimension is ≥ 1, the element and byte counts fit in `Int`, the row length is a multiple of the
/// type's block size and the data lies inside the file.
public struct TensorInfo: Sendable, Equatable, Hashable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public var name: String
    /// Dimensions in ggml order (`ne[0]` first), as stored.
    public var shape: [Int]
    /// The ggml type of the data.
    public var type: GGMLType
    /// Offset of the data from the start of the file's data section (`dataOffset`).
    public var offset: Int

    public init(name: String, shape: [Int], type: GGMLType, offset: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
    }

    /// The number of elements (product of `shape`).
    public var elementCount: Int { shape.reduce(1, &*) }

    /// Bytes of data: `ne[0] / blockSize × typeSize × ne[1] × ne[2] × ne[3]` (`ggml_nbytes`).
    public var byteCount: Int { rowCount &* rowByteCount }

    /// Elements per row (`ne[0]`).
    public var rowLength: Int { shape[0] }

    /// Rows (`ne[1] × ne[2] × ne[3]`).
    public var rowCount: Int { shape.dropFirst().reduce(1, &*) }

    /// Bytes per row (`ggml_row_size`).
    public var rowByteCount: Int { shape[0] / type.blockSize &* type.typeSize }

    /// The descriptor a writer needs to write this tensor back unchanged (same shape, same n_dims).
    public var descriptor: TensorDescriptor {
        TensorDescriptor(name: name, shape: shape, type: type)
    }
}
