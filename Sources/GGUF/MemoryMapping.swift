#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Thin wrappers over `open`, `fstat`, `mmap`, `munmap` and `pread`: the only place the reader calls
/// the OS.
enum MemoryMapping {
    /// The system's text for `errno` (`strerror`).
    static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Maps the whole file at `path` read-only and private. Returns a nil base for an empty file
    /// (`mmap` rejects a zero length).
    static func map(path: String) throws(GGUFError) -> (base: UnsafeRawPointer?, size: Int) {
        let (descriptor, size) = try openFile(path: path)
        defer { close(descriptor) }
        return (try map(descriptor: descriptor, size: size, path: path), size)
    }

    /// Opens the file at `path` read-only: its descriptor and size. A directory is refused.
    static func openFile(path: String) throws(GGUFError) -> (descriptor: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .cannotOpen(path: path, reason: errorText()) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let reason = errorText()
            close(fd)
            throw .cannotOpen(path: path, reason: reason)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw .cannotOpen(path: path, reason: errorText(EISDIR))
        }
        return (fd, Int(st.st_size))
    }

    /// Maps the `size` bytes of the open file `descriptor` read-only and private (nil for an empty file).
    static func map(descriptor: Int32, size: Int, path: String) throws(GGUFError) -> UnsafeRawPointer? {
        if size == 0 { return nil }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), p != MAP_FAILED else {
            throw .cannotOpen(path: path, reason: "mmap: " + errorText())
        }
        // Tensors are mostly read front to back; a failed hint is harmless.
        _ = madvise(p, size, MADV_SEQUENTIAL)
        return UnsafeRawPointer(p)
    }

    /// Fills `buffer` with the bytes at `offset` of the open file `descriptor` (`pread`, retried
    /// until done).
    static func read(_ descriptor: Int32, at offset: Int, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(GGUFError) {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .readFailed(path: path, reason: errorText()) }
            if n == 0 { throw .readFailed(path: path, reason: "the file ends at byte \(offset + done), before byte \(offset + buffer.count)") }
            done += n
        }
    }

    /// Tells the kernel the mapped range is not needed any more: its pages leave this process's
    /// resident set (they stay in the page cache). Only whole pages inside the range are released.
    static func release(_ range: UnsafeRawBufferPointer) {
        guard let start = range.baseAddress, range.count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = (Int(bitPattern: start) + range.count) / page * page
        guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(pointer, end - first, MADV_DONTNEED)
    }

    /// Closes a descriptor from `openFile(path:)`.
    static func closeFile(_ descriptor: Int32) {
        _ = close(descriptor)
    }

    static func unmap(_ base: UnsafeRawPointer, size: Int) {
        _ = munmap(UnsafeMutableRawPointer(mutating: base), size)
    }
}
