#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file being written through an aligned buffer with raw `write(2)`; written under a temporary name
/// next to its destination and renamed into place by `commit()`. The temporary file is registered
/// in `TemporaryFiles` while it exists, so that an interrupted process deletes it; one left by a
/// killed process is found by its name (`OutputTarget.removeLeftovers()`).
///
/// Writes bypass the page cache where the system allows it (`O_DIRECT` on Linux, `F_NOCACHE` on
/// Darwin): the buffer goes to the disk as it is, instead of being copied into fresh cache pages that
/// the kernel must then allocate, write back and reclaim — for a large output, that copy cost more
/// CPU than decoding the inputs did (measured with `perf`; see docs/DESIGN.md). The buffer is written
/// whole, so every write but the last starts and ends on `DirectIO.alignment`; the last is padded with
/// zeros and the file truncated back to its length. Where direct writes are refused (tmpfs, some
/// network file systems), the file is written through the cache.
final class OutputFile {
    /// The final path.
    let path: String
    /// The temporary path: `.<name>.tmp-<pid>` in the same directory.
    let temporaryPath: String
    private var descriptor: Int32
    /// Writes go to the disk without the page cache.
    private var direct: Bool
    /// The write buffer, from `init` until the file is closed (a split output's closed shards must not
    /// each keep one).
    private var buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    /// Bytes of the file: written, or in the buffer.
    private var length = 0
    /// Bytes handed to `write` so far.
    private var position = 0
    /// Bytes whose write-back to disk has been started (cached writes only; see `startWriteBack`).
    private var writeBackStarted = 0

    static let bufferCapacity = 8 << 20

    /// Cached writes are handed to the disk every this many bytes: the kernel would otherwise hold them
    /// until `fsync` (below its dirty-memory threshold, for half a minute), and the whole file's disk
    /// time would come after the last tensor instead of during the merge.
    static let writeBackChunk = 64 << 20

    static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(directory).\(name).tmp-\(getpid())"
    }

    /// Creates (or truncates) the temporary file; `directIO: false` writes through the page cache.
    init(path: String, directIO: Bool = true) throws(GGUFError) {
        self.path = path
        self.temporaryPath = Self.temporaryPath(for: path)
        guard TemporaryFiles.register(temporaryPath) else { throw .interrupted(path: path) }
        let flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
        descriptor = -1
        direct = false
        if directIO, let directFlag = DirectIO.openFlag {
            descriptor = open(temporaryPath, flags | directFlag, 0o666)
            direct = descriptor >= 0
        }
        if descriptor < 0 { descriptor = open(temporaryPath, flags, 0o666) }
        if descriptor < 0 {
            let reason = MemoryMapping.errorText()
            unlink(temporaryPath)  // a direct open may have created it before failing
            TemporaryFiles.forget(temporaryPath)
            throw .cannotCreate(path: path, reason: "\(temporaryPath): \(reason)")
        }
        #if canImport(Darwin)
        direct = directIO && fcntl(descriptor, F_NOCACHE, 1) == 0
        #endif
        buffer = HugePages.allocate(byteCount: Self.bufferCapacity, alignment: DirectIO.alignment)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        releaseBuffer()
    }

    private func releaseBuffer() {
        buffer.deallocate()
        buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }

    /// Appends `bytes` to the file.
    func append(_ bytes: UnsafeRawBufferPointer) throws(GGUFError) {
        guard var source = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = min(left, Self.bufferCapacity - buffered)
            (buffer.baseAddress! + buffered).copyMemory(from: source, byteCount: n)
            try filled(n)
            source += n
            left -= n
        }
    }

    /// Appends the `count` bytes at `offset` in `region` (whose base address is `DirectIO.alignment`-
    /// aligned). When they lie at the file's page phase (`offset == length % alignment`) and writes are
    /// direct, they go to the disk from `region` itself, without the copy into the buffer: the file's
    /// unwritten partial page is put in front of them, over `region[..<offset]`, and only the bytes after
    /// their last whole page are buffered. Otherwise they are copied, as `append(_:)` does.
    func append(region: UnsafeMutableRawBufferPointer, offset: Int, count: Int) throws(GGUFError) {
        let alignment = DirectIO.alignment
        let phase = length % alignment
        guard direct, let start = region.baseAddress, Int(bitPattern: start) % alignment == 0, offset == phase,
              count >= alignment, offset + count <= region.count else {
            return try append(UnsafeRawBufferPointer(rebasing: region[offset ..< offset + count]))
        }
        // The buffer holds the file from `position` (a page boundary) on: write its whole pages and keep
        // the partial page, whose length is the phase.
        if buffered > phase {
            try writeBuffer(count: buffered - phase)
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + (buffered - phase), byteCount: phase)
            buffered = phase
        }
        start.copyMemory(from: buffer.baseAddress!, byteCount: phase)
        let whole = (phase + count) / alignment * alignment
        try writeAll(UnsafeRawPointer(start), count: whole)
        buffered = phase + count - whole
        buffer.baseAddress!.copyMemory(from: start + whole, byteCount: buffered)
        length += count
    }

    /// Appends `count` zero bytes.
    func appendZeros(_ count: Int) throws(GGUFError) {
        var left = count
        while left > 0 {
            let n = min(left, Self.bufferCapacity - buffered)
            (buffer.baseAddress! + buffered).initializeMemory(as: UInt8.self, repeating: 0, count: n)
            try filled(n)
            left -= n
        }
    }

    /// Counts `n` new bytes in the buffer and writes it once it is full.
    private func filled(_ n: Int) throws(GGUFError) {
        buffered += n
        length += n
        if buffered == Self.bufferCapacity {
            try writeBuffer(count: buffered)
            buffered = 0
        }
    }

    /// Writes the first `count` bytes of the buffer (see `writeAll`).
    private func writeBuffer(count: Int) throws(GGUFError) {
        try writeAll(UnsafeRawPointer(buffer.baseAddress!), count: count)
    }

    /// Writes `count` bytes from `start` at `position` (retrying partial writes and EINTR). A direct
    /// write the system refuses (`EINVAL`: an alignment it does not support) is retried through the
    /// page cache, and so is the rest of the file.
    private func writeAll(_ start: UnsafeRawPointer, count: Int) throws(GGUFError) {
        var p = start
        var left = count
        while left > 0 {
            let n = write(descriptor, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EINVAL, direct, stopDirectWrites() { continue }
                throw .writeFailed(path: path, reason: MemoryMapping.errorText())
            }
            if n == 0 { throw .writeFailed(path: path, reason: "write returned 0") }
            p += n
            left -= n
            position += n
        }
        if !direct, position - writeBackStarted >= Self.writeBackChunk { startWriteBack() }
    }

    /// Turns direct I/O off for the rest of the file; false if the system refuses.
    private func stopDirectWrites() -> Bool {
        #if os(Linux)
        guard let flag = DirectIO.openFlag else { return false }
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags & ~flag) == 0 else { return false }
        direct = false
        return true
        #else
        return false
        #endif
    }

    /// Starts writing the bytes written since the last call to disk, without waiting. On Linux,
    /// `POSIX_FADV_DONTNEED` on dirty pages starts their write-back (and drops the clean ones: the
    /// output is not read again); elsewhere the final `fsync` does all of it.
    private func startWriteBack() {
        #if os(Linux)
        _ = posix_fadvise(descriptor, off_t(writeBackStarted), off_t(position - writeBackStarted), POSIX_FADV_DONTNEED)
        #endif
        writeBackStarted = position
    }

    /// Writes what is buffered, flushes to disk and closes the descriptor. A direct file's last write
    /// is padded to `DirectIO.alignment`, and the padding cut off again.
    func syncAndClose() throws(GGUFError) {
        defer { releaseBuffer() }
        if buffered > 0 {
            var count = buffered
            if direct {
                count = (buffered + DirectIO.alignment - 1) / DirectIO.alignment * DirectIO.alignment
                (buffer.baseAddress! + buffered).initializeMemory(as: UInt8.self, repeating: 0, count: count - buffered)
            }
            try writeBuffer(count: count)
            buffered = 0
            if position != length, ftruncate(descriptor, off_t(length)) != 0 {
                throw .writeFailed(path: path, reason: "ftruncate: " + MemoryMapping.errorText())
            }
        }
        if fsync(descriptor) != 0 {
            let reason = "fsync: " + MemoryMapping.errorText()
            close(descriptor); descriptor = -1
            throw .writeFailed(path: path, reason: reason)
        }
        if close(descriptor) != 0 {
            descriptor = -1
            throw .writeFailed(path: path, reason: "close: " + MemoryMapping.errorText())
        }
        descriptor = -1
    }

    /// Renames the temporary file onto the final path.
    func commit() throws(GGUFError) {
        if rename(temporaryPath, path) != 0 {
            throw .writeFailed(path: path, reason: "rename: " + MemoryMapping.errorText())
        }
        TemporaryFiles.forget(temporaryPath)
    }

    /// Closes (if open) and deletes the temporary file.
    func discard() {
        releaseBuffer()
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        unlink(temporaryPath)
        TemporaryFiles.forget(temporaryPath)
    }

    /// Flushes the directory holding `path` so a rename survives a crash (best effort).
    static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }
}

/// Direct I/O (writes that bypass the page cache) as `OutputFile` uses it, for tools that measure
/// against it.
public enum DirectIO {
    /// `open`'s `O_DIRECT` flag, which the C headers Swift imports do not name; nil where the system
    /// has none (Darwin turns the cache off per descriptor, with `fcntl(F_NOCACHE)`).
    public static var openFlag: Int32? {
        #if os(Linux) && (arch(x86_64) || arch(i386))
        return 0o40000
        #elseif os(Linux) && (arch(arm64) || arch(arm))
        return 0o200000
        #else
        return nil
        #endif
    }

    /// Offsets, lengths and addresses of direct writes are multiples of this: a page, at least every
    /// disk's logical block.
    public static let alignment = 4096
}
