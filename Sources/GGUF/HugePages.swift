#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Large buffers that live through a whole merge (the output batches, the workers' float pieces, the
/// writer's buffer), placed so that the kernel can back them with transparent huge pages.
///
/// A direct write pins every page of its source for the device (`get_user_pages`), and the float
/// pieces are streamed through again and again: with 4 KiB pages both cost a page-table walk (and a
/// TLB miss) every 4 KiB. Measured (native build, 2 threads, eight alternated runs each, median
/// wall time): linear 1B F16 1.02 → 0.88 s, SLERP 1B Q8_0 0.92 → 0.85 s.
public enum HugePages {
    /// The size of a transparent huge page on x86-64, and on arm64 with 4 KiB pages: buffers of at
    /// least this size start on a multiple of it.
    public static let size = 2 << 20

    /// `byteCount` bytes aligned to `alignment` (a power of two), to be freed with `deallocate()`.
    /// From `size` bytes up the buffer starts on a huge page, and its whole huge pages are advised as
    /// such (`MADV_HUGEPAGE`, which Linux honours when transparent huge pages are set to `madvise` or
    /// `always`); elsewhere, or where the advice is refused, it is ordinary memory.
    public static func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawBufferPointer {
        guard byteCount >= size else { return .allocate(byteCount: byteCount, alignment: alignment) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: max(alignment, size))
        #if os(Linux)
        // Only whole huge pages inside the buffer: the advice never reaches memory it does not own.
        _ = madvise(buffer.baseAddress, byteCount / size * size, MADV_HUGEPAGE)
        #endif
        return buffer
    }
}
