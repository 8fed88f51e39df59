/// One GGUF file, memory-mapped read-only and validated as llama.cpp's loader would.
///
/// Opening parses and checks the header, the metadata and every tensor info, and checks that the
/// tensor data lies where llama.cpp expects it (in info order, each at the previous one's end
/// padded to `alignment`) and inside the file. Tensor data is not read: `withBytes(of:_:)` and
/// `bytes(of:)` give a zero-copy view into the mapping, valid for as long as this object lives.
public final class GGUFFile: @unchecked Sendable {
    // Sendable: every stored property is immutable after init, the mapping is read-only.

    /// The path the file was opened with.
    public let path: String
    /// The GGUF version (2 or 3).
    public let version: UInt32
    /// Alignment of the data section and of each tensor's data (`general.alignment`, default 32).
    public let alignment: Int
    /// The key/value pairs, in file order.
    public let metadata: Metadata
    /// The tensor infos, in file order.
    public let tensors: [TensorInfo]
    /// Absolute offset of the data section: the end of the tensor infos, rounded up to `alignment`.
    public let dataOffset: Int
    /// The file's size in bytes.
    public let fileSize: Int

    private let base: UnsafeRawPointer?
    /// The file, open for `copyBytes(of:ranges:into:)` (the same file as mapped, whatever happens
    /// to its path).
    private let descriptor: Int32
    private let tensorIndex: [String: Int]

    /// Opens, maps and validates the GGUF file at `path`.
    /// - Throws: a `GGUFError` naming the file, the byte offset and what is wrong; never traps on
    ///   malformed input.
    public init(path: String) throws(GGUFError) {
        let (descriptor, size) = try MemoryMapping.openFile(path: path)
        var base: UnsafeRawPointer? = nil
        let header: GGUFHeader
        do throws(GGUFError) {
            base = try MemoryMapping.map(descriptor: descriptor, size: size, path: path)
            header = try GGUFHeader(parsing: UnsafeRawBufferPointer(start: base, count: size), path: path)
        } catch {
            if let base { MemoryMapping.unmap(base, size: size) }
            MemoryMapping.closeFile(descriptor)
            throw error
        }
        self.path = path
        self.base = base
        self.descriptor = descriptor
        self.fileSize = size
        self.version = header.version
        self.alignment = header.alignment
        self.metadata = header.metadata
        self.tensors = header.tensors
        self.dataOffset = header.dataOffset
        self.tensorIndex = header.tensorIndex
    }

    deinit {
        if let base { MemoryMapping.unmap(base, size: fileSize) }
        MemoryMapping.closeFile(descriptor)
    }

    /// The tensor named `name`, or nil.
    public func tensor(named name: String) -> TensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The data of `tensor` (one of this file's `tensors`), without copying. Valid while `self` lives,
    /// and an optimized build ends an object's life at its last use, which may come before the
    /// pointer's: keep `self` alive across every use (`withExtendedLifetime`), or use `withBytes(of:_:)`.
    public func bytes(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        let start = dataOffset + tensor.offset
        let count = tensor.byteCount
        precondition(tensor.offset >= 0 && start <= fileSize && count <= fileSize - start,
                     "tensor '\(tensor.name)' is not one of \(path)'s tensors")
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + start, count: count)
    }

    /// Calls `body` with the data of `tensor`, without copying, keeping the mapping alive until it returns.
    public func withBytes<Result, Failure>(
        of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(bytes(of: tensor))
    }

    /// Copies the bytes `ranges` of `tensor`'s data (offsets within it, ascending), one after another,
    /// into `buffer` (at least their total count), with `pread`: through the page cache, never the
    /// mapping. For a few scattered rows, each of which costs a page fault through the mapping that
    /// maps a run of pages around it (and their release later): `check` reads its sampled rows this
    /// way. Adjacent ranges are read at once.
    public func copyBytes(of tensor: TensorInfo, ranges: [Range<Int>], into buffer: UnsafeMutableRawBufferPointer) throws(GGUFError) {
        let data = bytes(of: tensor)
        var filled = 0, k = 0
        while k < ranges.count {
            var run = ranges[k]
            k += 1
            while k < ranges.count, ranges[k].lowerBound == run.upperBound {
                run = run.lowerBound ..< ranges[k].upperBound
                k += 1
            }
            precondition(run.lowerBound >= 0 && run.upperBound <= data.count && filled + run.count <= buffer.count,
                         "ranges outside tensor '\(tensor.name)' or its buffer")
            try MemoryMapping.read(descriptor, at: dataOffset + tensor.offset + run.lowerBound,
                                   into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled ..< filled + run.count]), path: path)
            filled += run.count
        }
    }

    /// Drops the pages of `tensor`'s data from this process's resident memory once it has been read
    /// (the mapping stays valid; a later read pages the data in again). Keeps memory flat while a
    /// model streams through.
    public func releasePages(of tensor: TensorInfo) {
        MemoryMapping.release(bytes(of: tensor))
    }

    /// Drops the pages of bytes `range` of `tensor`'s data (pages partly outside it are kept).
    public func releasePages(of tensor: TensorInfo, bytes range: Range<Int>) {
        MemoryMapping.release(UnsafeRawBufferPointer(rebasing: bytes(of: tensor)[range]))
    }

    /// The whole file, without copying. Valid while `self` lives.
    public var fileBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: fileSize)
    }
}
