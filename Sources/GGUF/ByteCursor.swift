/// A bounds-checked little-endian reader over a byte buffer, throwing `GGUFError` instead of
/// trapping. Every read checks the remaining length once, then loads unaligned. Public so that the
/// readers of other llama.cpp formats (importance matrices) parse the same way.
public struct ByteCursor {
    public let bytes: UnsafeRawBufferPointer
    public let path: String
    public private(set) var offset: Int = 0

    public init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Bytes left after the current offset.
    public var remaining: Int { bytes.count - offset }

    /// Checks that `count` bytes remain, else throws `.truncated` for the field `what`.
    @inline(__always)
    public func require(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) {
        if count > remaining { throw .truncated(path: path, offset: offset, what: what()) }
    }

    @inline(__always)
    public mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        if size > remaining { throw .truncated(path: path, offset: offset, what: what()) }
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset &+= size
        return v
    }

    /// Reads a u64 count and checks that `count × minimumElementSize` bytes can still follow.
    mutating func readCount(_ what: @autoclosure () -> String, minimumElementSize: Int) throws(GGUFError) -> Int {
        let start = offset
        let n = try read(UInt64.self, what())
        if n > UInt64(remaining / max(minimumElementSize, 1)) {
            throw .countExceedsFile(path: path, offset: start, what: what(), count: n)
        }
        return Int(n)
    }

    /// Reads a GGUF string (u64 length, then UTF-8 bytes), validating the length against the bytes
    /// left and the contents as UTF-8.
    mutating func readString(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let start = offset
        let length = try read(UInt64.self, what())
        if length > UInt64(remaining) {
            throw .countExceedsFile(path: path, offset: start, what: "length of " + what(), count: length)
        }
        let n = Int(length)
        let raw = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        let codeUnits = raw.bindMemory(to: UInt8.self)
        var ascii = true
        for b in codeUnits where b >= 0x80 { ascii = false; break }
        let string = String(decoding: codeUnits, as: UTF8.self)
        // Decoding repairs invalid sequences with U+FFFD; the bytes survive unchanged only if valid.
        if !ascii, !string.utf8.elementsEqual(codeUnits) {
            throw .invalidUTF8(path: path, offset: start, what: what())
        }
        offset += n
        return string
    }

    /// Moves the cursor to `newOffset` (≤ the buffer's size).
    public mutating func seek(to newOffset: Int) {
        precondition(newOffset >= 0 && newOffset <= bytes.count)
        offset = newOffset
    }
}
