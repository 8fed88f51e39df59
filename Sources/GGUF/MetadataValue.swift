/// One GGUF metadata value: a scalar of one of the twelve scalar types, or a typed array.
///
/// Arrays keep their element type so that an empty array round-trips; llama.cpp neither reads nor
/// writes arrays of arrays, and neither does this library. Equality compares floats by bit pattern,
/// so a value read from a file equals itself even when it is a NaN, and `-0.0 != 0.0`.
public enum MetadataValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)
    /// An array of values of one type (`elementType` is never `.array`); every element has that type.
    case array(MetadataValueType, [MetadataValue])

    /// The value's GGUF type id.
    public var type: MetadataValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        case .array: .array
        }
    }

    /// The value of any integer case as an `Int`; nil for other cases and for a `uint64` above `Int.max`.
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// The value of a `float32` or `float64` as a `Double`, or of an integer case converted to `Double`.
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        case .uint64(let v): Double(v)
        default: int.map(Double.init)
        }
    }

    /// The string of a `string` value.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The flag of a `bool` value.
    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements of an `array` value.
    public var array: [MetadataValue]? {
        if case .array(_, let elements) = self { return elements }
        return nil
    }

    public static func == (lhs: MetadataValue, rhs: MetadataValue) -> Bool {
        switch (lhs, rhs) {
        case (.uint8(let a), .uint8(let b)): a == b
        case (.int8(let a), .int8(let b)): a == b
        case (.uint16(let a), .uint16(let b)): a == b
        case (.int16(let a), .int16(let b)): a == b
        case (.uint32(let a), .uint32(let b)): a == b
        case (.int32(let a), .int32(let b)): a == b
        case (.float32(let a), .float32(let b)): a.bitPattern == b.bitPattern
        case (.bool(let a), .bool(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.uint64(let a), .uint64(let b)): a == b
        case (.int64(let a), .int64(let b)): a == b
        case (.float64(let a), .float64(let b)): a.bitPattern == b.bitPattern
        case (.array(let ta, let a), .array(let tb, let b)): ta == tb && a == b
        default: false
        }
    }
}

extension MetadataValue: CustomStringConvertible {
    /// A short rendering for messages and dumps: numbers as-is, strings quoted, arrays as
    /// `[u32 × 3: 1, 2, 3]` with at most eight elements shown.
    public var description: String {
        switch self {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let s): "\"\(s)\""
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float64(let v): "\(v)"
        case .array(let type, let elements):
            "[\(type.name) × \(elements.count)\(elements.isEmpty ? "" : ": ")"
                + elements.prefix(8).map(\.description).joined(separator: ", ")
                + (elements.count > 8 ? ", …]" : "]")
        }
    }
}
