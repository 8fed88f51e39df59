#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Thin wrappers over `open`, `fstat`, `mmap` and `munmap`: the only place the reader calls the OS.
enum MemoryMapping {
    /// The system's text for `errno` (`strerror`).
    static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Maps the whole file at `path` read-only and private. Returns a nil base for an empty file
    /// (`mmap` rejects a zero length).
    static func map(path: String) throws(GGUFError) -> (base: UnsafeRawPointer?, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .cannotOpen(path: path, reason: errorText()) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .cannotOpen(path: path, reason: errorText()) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw .cannotOpen(path: path, reason: errorText(EISDIR)) }
        let size = Int(st.st_size)
        if size == 0 { return (nil, 0) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw .cannotOpen(path: path, reason: "mmap: " + errorText())
        }
        // Tensors are mostly read front to back; a failed hint is harmless.
        _ = madvise(p, size, MADV_SEQUENTIAL)
        return (UnsafeRawPointer(p), size)
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

    static func unmap(_ base: UnsafeRawPointer, size: Int) {
        _ = munmap(UnsafeMutableRawPointer(mutating: base), size)
    }
}
