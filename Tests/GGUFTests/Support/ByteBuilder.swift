/// Builds GGUF bytes field by field, so tests can craft valid and malformed files by hand from the
/// format description (llama.cpp's `gguf.cpp`), independently of the code under test.
struct ByteBuilder {
    var bytes: [UInt8] = []

    var count: Int { bytes.count }

    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { append(v) }
    mutating func u32(_ v: UInt32) { append(v) }
    mutating func i32(_ v: Int32) { append(v) }
    mutating func u64(_ v: UInt64) { append(v) }
    mutating func i64(_ v: Int64) { append(v) }
    mutating func f32(_ v: Float) { append(v.bitPattern) }

    /// A GGUF string: u64 length, then the bytes.
    mutating func string(_ s: String) { rawString(Array(s.utf8)) }
    mutating func rawString(_ b: [UInt8]) { u64(UInt64(b.count)); bytes += b }

    mutating func zeros(_ n: Int) { bytes += [UInt8](repeating: 0, count: n) }
    mutating func pad(to alignment: Int) { zeros((alignment - bytes.count % alignment) % alignment) }

    private mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
    }

    // MARK: GGUF pieces

    /// Magic, version, tensor count, key/value count.
    static func header(version: UInt32 = 3, tensors: UInt64, pairs: UInt64) -> ByteBuilder {
        var b = ByteBuilder()
        b.raw(Array("GGUF".utf8))
        b.u32(version)
        b.u64(tensors)
        b.u64(pairs)
        return b
    }

    /// A key and a scalar type id; the caller appends the payload.
    mutating func key(_ key: String, type: UInt32) { string(key); u32(type) }

    mutating func kvString(_ key: String, _ value: String) { self.key(key, type: 8); string(value) }
    mutating func kvU32(_ key: String, _ value: UInt32) { self.key(key, type: 4); u32(value) }

    /// A tensor info: name, n_dims, dims (ggml order), type id, offset.
    mutating func tensor(_ name: String, shape: [Int64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(shape.count))
        for d in shape { i64(d) }
        u32(type)
        u64(offset)
    }
}

/// A small valid file: 4 pairs (string, u32 alignment, i32 array, bool), tensors `a` (F32 [8, 2],
/// 64 bytes at 0) and `b` (Q8_0 [32], 34 bytes at 64), data filled with a counting pattern. It has
/// no padding after the last tensor, so every proper prefix of it is invalid.
enum SmallFile {
    static let dataOffset = 256

    static func bytes() -> [UInt8] {
        var b = ByteBuilder.header(tensors: 2, pairs: 4)
        b.kvString("general.architecture", "llama")
        b.kvU32("general.alignment", 32)
        b.key("x.arr", type: 9); b.u32(5); b.u64(3); b.i32(1); b.i32(-2); b.i32(3)
        b.key("x.flag", type: 7); b.u8(1)
        b.tensor("a", shape: [8, 2], type: 0, offset: 0)
        b.tensor("b", shape: [32], type: 8, offset: 64)
        b.pad(to: 32)
        precondition(b.count == dataOffset, "\(b.count)")
        b.raw((0..<98).map { UInt8($0) })
        return b.bytes
    }
}
