/// Everything before the tensor data, parsed and validated (`gguf_init_from_file_impl`'s rules).
struct GGUFHeader {
    var version: UInt32 = 0
    var alignment = 32
    var metadata = Metadata()
    var tensors: [TensorInfo] = []
    var tensorIndex: [String: Int] = [:]
    var dataOffset = 0

    /// The GGUF magic, `GGUF` in file order.
    static let magic: [UInt8] = Array("GGUF".utf8)
    /// Default for `general.alignment` (`GGUF_DEFAULT_ALIGNMENT`).
    static let defaultAlignment = 32
    /// Longest tensor name plus its terminator (`GGML_MAX_NAME`).
    static let maxNameBytes = 64
    /// Fewest bytes a tensor info can take: name length, n_dims, one dimension, type, offset.
    static let minimumTensorInfoSize = 8 + 4 + 8 + 4 + 8
    /// Fewest bytes a key/value pair can take: key length, type, a 1-byte value (an empty key is
    /// reported as such, not as a count problem).
    static let minimumPairSize = 8 + 4 + 1

    init(parsing bytes: UnsafeRawBufferPointer, path: String) throws(GGUFError) {
        var cursor = ByteCursor(bytes: bytes, path: path)

        // Header.
        if bytes.count == 0 { throw .truncated(path: path, offset: 0, what: "the magic (the file is empty)") }
        if bytes.count < 4 || !Self.magic.elementsEqual(bytes.prefix(4)) {
            throw .notGGUF(path: path, magic: Array(bytes.prefix(4)))
        }
        cursor.seek(to: 4)
        version = try cursor.read(UInt32.self, "the version")
        if version != 0 && version & 0xFFFF == 0 { throw .bigEndian(path: path) }
        if version < 2 || version > 3 { throw .unsupportedVersion(path: path, version: version) }
        let tensorCount = try cursor.readCount("tensor count", minimumElementSize: Self.minimumTensorInfoSize)
        let pairCount = try cursor.readCount("metadata pair count", minimumElementSize: Self.minimumPairSize)

        // Key/value pairs.
        metadata = Metadata()
        for i in 0..<pairCount {
            let keyOffset = cursor.offset
            let key = try cursor.readString("the key of metadata pair \(i)")
            if key.isEmpty { throw .emptyKey(path: path, offset: keyOffset) }
            if metadata.contains(key) { throw .duplicateKey(path: path, offset: keyOffset, key: key) }
            let value = try Self.readValue(&cursor, key: key)
            metadata.appendNew(key, value)
        }

        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value else {
                throw .invalidAlignment(path: path, reason: "must be of type u32 but is \(value.type.name)")
            }
            guard a != 0, a & (a - 1) == 0 else {
                throw .invalidAlignment(path: path, reason: "\(a) is not a power of two")
            }
            alignment = Int(a)
        }

        // Tensor infos.
        tensors.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let info = try Self.readTensorInfo(&cursor, index: i)
            if tensorIndex.updateValue(tensors.count, forKey: info.tensor.name) != nil {
                throw .duplicateTensor(path: path, offset: info.nameOffset, name: info.tensor.name)
            }
            tensors.append(info.tensor)
        }

        // Data section and layout: offsets must be exactly llama.cpp's (in order, each padded).
        let end = cursor.offset
        let aligned = end + (alignment - end % alignment) % alignment
        dataOffset = tensors.isEmpty ? min(aligned, bytes.count) : aligned
        var expected = 0
        var previous: (name: String, end: Int)? = nil
        for t in tensors {
            if t.offset % alignment != 0 {
                throw .misalignedTensor(path: path, tensor: t.name, offset: t.offset, alignment: alignment)
            }
            if t.offset < expected, let previous {
                throw .overlappingTensor(path: path, tensor: t.name, offset: t.offset,
                                         previous: previous.name, previousEnd: previous.end)
            }
            if t.offset != expected {
                throw .unexpectedTensorOffset(path: path, tensor: t.name, offset: t.offset, expected: expected)
            }
            let size = t.byteCount
            if dataOffset > bytes.count || t.offset > bytes.count - dataOffset
                || size > bytes.count - dataOffset - t.offset {
                throw .tensorOutOfBounds(path: path, tensor: t.name, start: dataOffset &+ t.offset,
                                         byteCount: size, fileSize: bytes.count)
            }
            previous = (t.name, t.offset + size)
            expected = t.offset + size
            expected += (alignment - expected % alignment) % alignment
        }
    }

    // MARK: Values

    static func readValue(_ c: inout ByteCursor, key: String) throws(GGUFError) -> MetadataValue {
        let typeOffset = c.offset
        let raw = try c.read(UInt32.self, "the type of key '\(key)'")
        guard let type = MetadataValueType(rawValue: raw) else {
            throw .unknownValueType(path: c.path, offset: typeOffset, key: key, type: raw)
        }
        guard type == .array else { return try readScalar(&c, type: type, key: key) }

        let elementOffset = c.offset
        let rawElement = try c.read(UInt32.self, "the element type of key '\(key)'")
        guard let elementType = MetadataValueType(rawValue: rawElement) else {
            throw .unknownValueType(path: c.path, offset: elementOffset, key: key, type: rawElement)
        }
        if elementType == .array { throw .nestedArray(path: c.path, offset: elementOffset, key: key) }
        let count = try c.readCount("array length of key '\(key)'", minimumElementSize: elementType.fixedSize ?? 8)
        var elements: [MetadataValue] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            elements.append(try readScalar(&c, type: elementType, key: key))
        }
        return .array(elementType, elements)
    }

    @inline(__always)
    static func readScalar(_ c: inout ByteCursor, type: MetadataValueType, key: String) throws(GGUFError) -> MetadataValue {
        switch type {
        case .uint8: return .uint8(try c.read(UInt8.self, "the value of key '\(key)'"))
        case .int8: return .int8(try c.read(Int8.self, "the value of key '\(key)'"))
        case .uint16: return .uint16(try c.read(UInt16.self, "the value of key '\(key)'"))
        case .int16: return .int16(try c.read(Int16.self, "the value of key '\(key)'"))
        case .uint32: return .uint32(try c.read(UInt32.self, "the value of key '\(key)'"))
        case .int32: return .int32(try c.read(Int32.self, "the value of key '\(key)'"))
        case .float32: return .float32(Float(bitPattern: try c.read(UInt32.self, "the value of key '\(key)'")))
        case .uint64: return .uint64(try c.read(UInt64.self, "the value of key '\(key)'"))
        case .int64: return .int64(try c.read(Int64.self, "the value of key '\(key)'"))
        case .float64: return .float64(Double(bitPattern: try c.read(UInt64.self, "the value of key '\(key)'")))
        case .bool:
            let offset = c.offset
            let byte = try c.read(UInt8.self, "the value of key '\(key)'")
            guard byte <= 1 else { throw .invalidBool(path: c.path, offset: offset, key: key, byte: byte) }
            return .bool(byte == 1)
        case .string:
            return .string(try c.readString("a string value of key '\(key)'"))
        case .array:
            throw .nestedArray(path: c.path, offset: c.offset, key: key)
        }
    }

    // MARK: Tensor infos

    static func readTensorInfo(_ c: inout ByteCursor, index: Int) throws(GGUFError) -> (tensor: TensorInfo, nameOffset: Int) {
        let path = c.path
        let nameOffset = c.offset
        let name = try c.readString("the name of tensor \(index)")
        if name.utf8.count >= maxNameBytes { throw .tensorNameTooLong(path: path, offset: nameOffset, name: name) }

        let dimsOffset = c.offset
        let nDims = try c.read(UInt32.self, "the dimension count of tensor '\(name)'")
        guard (1...4).contains(nDims) else {
            throw .invalidDimensionCount(path: path, offset: dimsOffset, tensor: name, count: nDims)
        }
        var shape: [Int] = []
        shape.reserveCapacity(Int(nDims))
        var elements = 1
        for j in 0..<Int(nDims) {
            let dimOffset = c.offset
            let d = try c.read(Int64.self, "dimension \(j) of tensor '\(name)'")
            guard d >= 1 else {
                throw .invalidShape(path: path, offset: dimOffset, tensor: name, reason: "has dimension \(j) = \(d), expected at least 1")
            }
            let (p, overflow) = elements.multipliedReportingOverflow(by: Int(d))
            if overflow {
                throw .invalidShape(path: path, offset: dimsOffset, tensor: name, reason: "has an element count that overflows 64 bits")
            }
            elements = p
            shape.append(Int(d))
        }

        let typeOffset = c.offset
        let rawType = try c.read(UInt32.self, "the type of tensor '\(name)'")
        guard let type = GGMLType(rawValue: rawType) else {
            throw .unknownTensorType(path: path, offset: typeOffset, tensor: name, type: rawType)
        }
        if shape[0] % type.blockSize != 0 {
            throw .rowNotBlockMultiple(path: path, offset: dimsOffset, tensor: name, rowLength: shape[0], type: type)
        }
        if type.byteCount(elements: elements) == nil {
            throw .invalidShape(path: path, offset: dimsOffset, tensor: name, reason: "has a size in bytes that overflows 64 bits")
        }
        let offset = try c.read(UInt64.self, "the data offset of tensor '\(name)'")
        let tensor = TensorInfo(name: name, shape: shape, type: type, offset: Int(exactly: offset) ?? Int.max)
        return (tensor, nameOffset)
    }
}
