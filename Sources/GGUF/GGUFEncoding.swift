/// Serializes a GGUF header (magic, version, counts, key/value pairs, tensor infos, padding)
/// byte for byte as llama.cpp's `gguf_write_to_file` does.
enum GGUFEncoding {
    /// Checks that every value can be written: no arrays of arrays, array elements of the declared
    /// type. Returns a reason, or nil if fine.
    static func problem(with value: MetadataValue, key: String) -> String? {
        guard case .array(let elementType, let elements) = value else { return nil }
        if elementType == .array { return "key '\(key)' is an array of arrays, which GGUF readers reject" }
        for e in elements where e.type != elementType {
            return "key '\(key)' is an array of \(elementType.name) holding a \(e.type.name)"
        }
        return nil
    }

    static func header(version: UInt32, metadata: Metadata, tensors: [TensorDescriptor],
                       offsets: [Int], alignment: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        out.append(contentsOf: GGUFHeader.magic)
        append(version, to: &out)
        append(UInt64(tensors.count), to: &out)
        append(UInt64(metadata.count), to: &out)
        for (key, value) in metadata {
            append(key, to: &out)
            if case .array(let elementType, let elements) = value {
                append(MetadataValueType.array.rawValue, to: &out)
                append(elementType.rawValue, to: &out)
                append(UInt64(elements.count), to: &out)
                for e in elements { appendPayload(e, to: &out) }
            } else {
                append(value.type.rawValue, to: &out)
                appendPayload(value, to: &out)
            }
        }
        for (t, offset) in zip(tensors, offsets) {
            append(t.name, to: &out)
            append(UInt32(t.shape.count), to: &out)
            for d in t.shape { append(Int64(d), to: &out) }
            append(t.type.rawValue, to: &out)
            append(UInt64(offset), to: &out)
        }
        // The data section starts aligned. With no tensors there is no data section, and the file
        // ends here: gguf-py writes vocab-only files so (llama.cpp's writer pads them; its loader
        // accepts both, not seeking past the infos when there are no tensors).
        if !tensors.isEmpty {
            let padding = (alignment - out.count % alignment) % alignment
            out.append(contentsOf: repeatElement(0, count: padding))
        }
        return out
    }

    private static func appendPayload(_ value: MetadataValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): out.append(v)
        case .int8(let v): out.append(UInt8(bitPattern: v))
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let s): append(s, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .array: preconditionFailure("nested arrays are rejected before encoding")
        }
    }

    @inline(__always)
    private static func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func append(_ s: String, to out: inout [UInt8]) {
        append(UInt64(s.utf8.count), to: &out)
        out.append(contentsOf: s.utf8)
    }
}
