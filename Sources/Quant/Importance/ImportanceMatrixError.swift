import GGUF

/// What can be wrong with an importance matrix file, or with its use for a model's tensor. Each case
/// names the file; `description` is one line.
public enum ImportanceMatrixError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file cannot be opened, or its structure is broken (a GGUF error, or a legacy file that ends
    /// early), as the underlying `GGUFError` says.
    case unreadable(GGUFError)
    /// No entries (llama.cpp: "no data in file").
    case empty(path: String)
    /// A GGUF imatrix without one of `imatrix.datasets`, `imatrix.chunk_count`, `imatrix.chunk_size`.
    case missingMetadata(path: String, key: String)
    /// A metadata key of the wrong type.
    case badMetadata(path: String, key: String, expected: String)
    /// `<tensor>.in_sum2` without `<tensor>.counts` or the reverse.
    case unpaired(path: String, tensor: String)
    /// Sums or counts stored in another type than F32.
    case notF32(path: String, tensor: String)
    /// The sums do not divide into one row per count.
    case countsMismatch(path: String, tensor: String, values: Int, counts: Int)
    /// A count that is not a finite number.
    case badCount(path: String, tensor: String, count: Float)
    /// A legacy entry with no values.
    case noValues(path: String, tensor: String)
    /// A weight that is NaN or infinite (llama-quantize: "imatrix contains non-finite value").
    case nonFinite(path: String, tensor: String, value: Float)
    /// An entry whose size is not the tensor's `columns × experts`.
    case sizeMismatch(path: String, tensor: String, values: Int, expected: Int)
    /// A tensor whose type needs an importance matrix has no entry in it.
    case missingEntry(path: String, tensor: String, type: GGMLType)

    public var description: String {
        switch self {
        case let .unreadable(error): "importance matrix: \(error)"
        case let .empty(path): "\(path): importance matrix has no entries"
        case let .missingMetadata(path, key): "\(path): importance matrix lacks the metadata key \(key)"
        case let .badMetadata(path, key, expected): "\(path): importance matrix key \(key) is not \(expected)"
        case let .unpaired(path, tensor): "\(path): importance matrix entry \(tensor) needs both .in_sum2 and .counts"
        case let .notF32(path, tensor): "\(path): importance matrix entry \(tensor): sums and counts must be F32"
        case let .countsMismatch(path, tensor, values, counts):
            "\(path): importance matrix entry \(tensor): \(values) sums do not split into \(counts) counts"
        case let .badCount(path, tensor, count): "\(path): importance matrix entry \(tensor): count \(count) is not finite"
        case let .noValues(path, tensor): "\(path): importance matrix entry \(tensor) has no values"
        case let .nonFinite(path, tensor, value): "\(path): importance matrix entry \(tensor) contains \(value)"
        case let .sizeMismatch(path, tensor, values, expected):
            "\(path): importance matrix entry \(tensor) has \(values) values, the tensor needs \(expected)"
        case let .missingEntry(path, tensor, type):
            "\(path): no importance matrix entry for \(tensor), which \(type.name) needs"
        }
    }
}
