/// A whole file of any format mapped read-only, for readers that parse it with a ``ByteCursor``
/// (importance matrices in llama.cpp's legacy `.dat` format). Unmapped when released.
public final class MappedFile: @unchecked Sendable {
    // Sendable: immutable after init, the mapping is read-only.

    /// The path the file was opened with.
    public let path: String
    private let base: UnsafeRawPointer?
    private let size: Int

    /// Maps the file at `path`.
    /// - Throws: `GGUFError.cannotOpen` with the system's reason.
    public init(path: String) throws(GGUFError) {
        (base, size) = try MemoryMapping.map(path: path)
        self.path = path
    }

    deinit {
        if let base { MemoryMapping.unmap(base, size: size) }
    }

    /// The file's bytes, valid while `self` lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// A cursor at the start of the file, valid while `self` lives.
    public func cursor() -> ByteCursor { ByteCursor(bytes: bytes, path: path) }
}
