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

    static func unmap(_ base: UnsafeRawPointer, size: Int) {
        _ = munmap(UnsafeMutableRawPointer(mutating: base), size)
    }
}
