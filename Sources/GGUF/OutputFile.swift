#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file being written through a fixed buffer with raw `write(2)`; written under a temporary name
/// next to its destination and renamed into place by `commit()`. The temporary file is registered
/// in `TemporaryFiles` while it exists, so that an interrupted process deletes it; one left by a
/// killed process is found by its name (`OutputTarget.removeLeftovers()`).
struct OutputFile {
    /// The final path.
    let path: String
    /// The temporary path: `.<name>.tmp-<pid>` in the same directory.
    let temporaryPath: String
    private(set) var descriptor: Int32
    /// Bytes handed to `write` so far (buffered or not).
    private(set) var position = 0
    /// Bytes whose write-back to disk has been started (see `startWriteBack`).
    private var writeBackStarted = 0

    /// Written bytes are handed to the disk every this many: the kernel would otherwise hold them until
    /// `fsync` (below its dirty-memory threshold, for half a minute), and the whole file's disk time
    /// would come after the last tensor instead of during the merge.
    static let writeBackChunk = 64 << 20

    static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(directory).\(name).tmp-\(getpid())"
    }

    /// Creates (or truncates) the temporary file.
    init(path: String) throws(GGUFError) {
        self.path = path
        self.temporaryPath = Self.temporaryPath(for: path)
        guard TemporaryFiles.register(temporaryPath) else { throw .interrupted(path: path) }
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        if descriptor < 0 {
            let reason = MemoryMapping.errorText()
            TemporaryFiles.forget(temporaryPath)
            throw .cannotCreate(path: path, reason: "\(temporaryPath): \(reason)")
        }
    }

    /// Writes all of `bytes` (retrying partial writes and EINTR).
    mutating func writeAll(_ bytes: UnsafeRawBufferPointer) throws(GGUFError) {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = write(descriptor, p, min(left, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: MemoryMapping.errorText())
            }
            if n == 0 { throw .writeFailed(path: path, reason: "write returned 0") }
            p += n
            left -= n
            position += n
        }
        if position - writeBackStarted >= Self.writeBackChunk { startWriteBack() }
    }

    /// Starts writing the bytes written since the last call to disk, without waiting. On Linux,
    /// `POSIX_FADV_DONTNEED` on dirty pages starts their write-back (and drops the clean ones: the
    /// output is not read again); elsewhere the final `fsync` does all of it.
    private mutating func startWriteBack() {
        #if os(Linux)
        _ = posix_fadvise(descriptor, off_t(writeBackStarted), off_t(position - writeBackStarted), POSIX_FADV_DONTNEED)
        #endif
        writeBackStarted = position
    }

    /// Flushes to disk and closes the descriptor.
    mutating func syncAndClose() throws(GGUFError) {
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
    mutating func discard() {
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
