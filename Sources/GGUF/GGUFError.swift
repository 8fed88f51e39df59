/// Everything that can go wrong reading or writing GGUF files.
///
/// Each case carries the file it concerns and, for parse errors, the byte offset of the field at
/// fault, so that `description` is one line a user can act on, e.g.
/// `model.gguf: byte 24: tensor count 18446744073709551615 exceeds file size`.
/// The rules are those of llama.cpp's loader (`gguf_init_from_file_impl` in `ggml/src/gguf.cpp`),
/// plus a few it leaves to later stages (data bounds, UTF-8, zero-sized dimensions).
public enum GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: Opening

    /// `open`, `fstat` or `mmap` failed; `reason` is the system's error text.
    case cannotOpen(path: String, reason: String)
    /// `pread` failed or found the file shorter than when it was opened; `reason` says which.
    case readFailed(path: String, reason: String)
    /// The file does not start with the magic `GGUF`.
    case notGGUF(path: String, magic: [UInt8])
    /// Version 1 (no longer supported by llama.cpp), 0, or newer than 3.
    case unsupportedVersion(path: String, version: UInt32)
    /// The version field reads as a byte-swapped small number: a big-endian GGUF.
    case bigEndian(path: String)

    // MARK: Structure

    /// The file ends before the field `what` that starts at `offset`.
    case truncated(path: String, offset: Int, what: String)
    /// A count or length read at `offset` cannot fit in the bytes that remain.
    case countExceedsFile(path: String, offset: Int, what: String, count: UInt64)
    /// A string (key, value or tensor name) is not valid UTF-8.
    case invalidUTF8(path: String, offset: Int, what: String)
    /// A metadata key is the empty string.
    case emptyKey(path: String, offset: Int)
    /// A metadata key occurs twice.
    case duplicateKey(path: String, offset: Int, key: String)
    /// A metadata value type id outside 0…12.
    case unknownValueType(path: String, offset: Int, key: String, type: UInt32)
    /// An array whose elements are arrays (llama.cpp rejects these too).
    case nestedArray(path: String, offset: Int, key: String)
    /// A bool stored as a byte other than 0 or 1.
    case invalidBool(path: String, offset: Int, key: String, byte: UInt8)
    /// `general.alignment` is not a `UINT32` power of two.
    case invalidAlignment(path: String, reason: String)

    // MARK: Tensor infos

    /// A tensor name occurs twice (within one file or across the shards of a model).
    case duplicateTensor(path: String, offset: Int, name: String)
    /// A tensor name of 64 bytes or more (`GGML_MAX_NAME`).
    case tensorNameTooLong(path: String, offset: Int, name: String)
    /// `n_dims` outside 1…4.
    case invalidDimensionCount(path: String, offset: Int, tensor: String, count: UInt32)
    /// A dimension that is zero, negative, or whose product with the others overflows.
    case invalidShape(path: String, offset: Int, tensor: String, reason: String)
    /// A ggml type id this library does not know (retired or newer than it).
    case unknownTensorType(path: String, offset: Int, tensor: String, type: UInt32)
    /// `ne[0]` is not a multiple of the type's block size.
    case rowNotBlockMultiple(path: String, offset: Int, tensor: String, rowLength: Int, type: GGMLType)
    /// A tensor offset that is not a multiple of the alignment.
    case misalignedTensor(path: String, tensor: String, offset: Int, alignment: Int)
    /// A tensor whose data starts inside the previous tensor's (padded) data.
    case overlappingTensor(path: String, tensor: String, offset: Int, previous: String, previousEnd: Int)
    /// A tensor offset other than the one llama.cpp's layout dictates (a gap after the previous tensor).
    case unexpectedTensorOffset(path: String, tensor: String, offset: Int, expected: Int)
    /// A tensor's data extends past the end of the file.
    case tensorOutOfBounds(path: String, tensor: String, start: Int, byteCount: Int, fileSize: Int)

    // MARK: Models made of several files

    /// The shards of a split model are inconsistent (count, number, missing or extra tensors…).
    case invalidSplit(path: String, reason: String)
    /// A tensor asked for by name is not in the model.
    case tensorNotFound(path: String, name: String)

    // MARK: Writing

    /// The output (or its temporary file) cannot be created; `reason` is the system's error text.
    case cannotCreate(path: String, reason: String)
    /// `write`, `fsync` or `rename` failed; `reason` is the system's error text.
    case writeFailed(path: String, reason: String)
    /// The output path names the same file as one of the inputs.
    case wouldOverwriteInput(path: String, input: String)
    /// The output path cannot be used (checked before any work: `OutputTarget.check`).
    case unusableOutput(path: String, problem: OutputProblem)
    /// The process is being interrupted: no new output file may be created.
    case interrupted(path: String)
    /// A tensor descriptor or metadata entry the writer cannot encode.
    case invalidOutput(path: String, reason: String)
    /// `append` was given a buffer whose size differs from the descriptor's `byteCount`.
    case wrongTensorSize(path: String, tensor: String, expected: Int, actual: Int)
    /// `append` was called after the last tensor, or `finish` before it.
    case tensorCountMismatch(path: String, written: Int, expected: Int)
    /// The writer already failed or finished; nothing more can be written.
    case writerClosed(path: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .cannotOpen(let p, _), .readFailed(let p, _), .notGGUF(let p, _), .unsupportedVersion(let p, _), .bigEndian(let p),
             .truncated(let p, _, _), .countExceedsFile(let p, _, _, _), .invalidUTF8(let p, _, _),
             .emptyKey(let p, _), .duplicateKey(let p, _, _), .unknownValueType(let p, _, _, _),
             .nestedArray(let p, _, _), .invalidBool(let p, _, _, _), .invalidAlignment(let p, _),
             .duplicateTensor(let p, _, _), .tensorNameTooLong(let p, _, _),
             .invalidDimensionCount(let p, _, _, _), .invalidShape(let p, _, _, _),
             .unknownTensorType(let p, _, _, _), .rowNotBlockMultiple(let p, _, _, _, _),
             .misalignedTensor(let p, _, _, _), .overlappingTensor(let p, _, _, _, _),
             .unexpectedTensorOffset(let p, _, _, _), .tensorOutOfBounds(let p, _, _, _, _),
             .invalidSplit(let p, _), .tensorNotFound(let p, _), .cannotCreate(let p, _),
             .writeFailed(let p, _), .wouldOverwriteInput(let p, _), .unusableOutput(let p, _),
             .interrupted(let p), .invalidOutput(let p, _),
             .wrongTensorSize(let p, _, _, _), .tensorCountMismatch(let p, _, _), .writerClosed(let p):
            return p
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "\(path): cannot open: \(reason)"
        case .readFailed(let path, let reason):
            return "\(path): read failed: \(reason)"
        case .notGGUF(let path, let magic):
            let shown = magic.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : "?" }.joined()
            return "\(path): not a GGUF file (magic '\(shown)', expected 'GGUF')"
        case .unsupportedVersion(let path, let version):
            return "\(path): byte 4: unsupported GGUF version \(version) (only 2 and 3 are supported)"
        case .bigEndian(let path):
            return "\(path): byte 4: big-endian GGUF is not supported"
        case .truncated(let path, let offset, let what):
            return "\(path): byte \(offset): file ends inside \(what)"
        case .countExceedsFile(let path, let offset, let what, let count):
            return "\(path): byte \(offset): \(what) \(count) exceeds file size"
        case .invalidUTF8(let path, let offset, let what):
            return "\(path): byte \(offset): \(what) is not valid UTF-8"
        case .emptyKey(let path, let offset):
            return "\(path): byte \(offset): empty metadata key"
        case .duplicateKey(let path, let offset, let key):
            return "\(path): byte \(offset): duplicate metadata key '\(key)'"
        case .unknownValueType(let path, let offset, let key, let type):
            return "\(path): byte \(offset): key '\(key)' has unknown value type \(type)"
        case .nestedArray(let path, let offset, let key):
            return "\(path): byte \(offset): key '\(key)' is an array of arrays, which llama.cpp does not support"
        case .invalidBool(let path, let offset, let key, let byte):
            return "\(path): byte \(offset): key '\(key)' has bool byte \(byte), expected 0 or 1"
        case .invalidAlignment(let path, let reason):
            return "\(path): general.alignment \(reason)"
        case .duplicateTensor(let path, let offset, let name):
            return "\(path): byte \(offset): duplicate tensor name '\(name)'"
        case .tensorNameTooLong(let path, let offset, let name):
            return "\(path): byte \(offset): tensor name '\(name)' is \(name.utf8.count) bytes, the limit is 63"
        case .invalidDimensionCount(let path, let offset, let tensor, let count):
            return "\(path): byte \(offset): tensor '\(tensor)' has \(count) dimensions, expected 1 to 4"
        case .invalidShape(let path, let offset, let tensor, let reason):
            return "\(path): byte \(offset): tensor '\(tensor)' \(reason)"
        case .unknownTensorType(let path, let offset, let tensor, let type):
            return "\(path): byte \(offset): tensor '\(tensor)' has unknown ggml type \(type)"
        case .rowNotBlockMultiple(let path, let offset, let tensor, let rowLength, let type):
            return "\(path): byte \(offset): tensor '\(tensor)' of type \(type.name) has rows of \(rowLength) elements, not a multiple of the block size \(type.blockSize)"
        case .misalignedTensor(let path, let tensor, let offset, let alignment):
            return "\(path): tensor '\(tensor)' has data offset \(offset), not a multiple of the alignment \(alignment)"
        case .overlappingTensor(let path, let tensor, let offset, let previous, let previousEnd):
            return "\(path): tensor '\(tensor)' at data offset \(offset) overlaps tensor '\(previous)', which ends at \(previousEnd)"
        case .unexpectedTensorOffset(let path, let tensor, let offset, let expected):
            return "\(path): tensor '\(tensor)' has data offset \(offset), expected \(expected)"
        case .tensorOutOfBounds(let path, let tensor, let start, let byteCount, let fileSize):
            return "\(path): byte \(start): tensor '\(tensor)' data (\(byteCount) bytes) extends past the end of the file (\(fileSize) bytes)"
        case .invalidSplit(let path, let reason):
            return "\(path): \(reason)"
        case .tensorNotFound(let path, let name):
            return "\(path): no tensor named '\(name)'"
        case .cannotCreate(let path, let reason):
            return "\(path): cannot create: \(reason)"
        case .writeFailed(let path, let reason):
            return "\(path): write failed: \(reason)"
        case .wouldOverwriteInput(let path, let input):
            return "\(path): output would overwrite the input \(input)"
        case .unusableOutput(let path, let problem):
            return "\(path): \(problem)"
        case .interrupted(let path):
            return "\(path): interrupted"
        case .invalidOutput(let path, let reason):
            return "\(path): \(reason)"
        case .wrongTensorSize(let path, let tensor, let expected, let actual):
            return "\(path): tensor '\(tensor)' is \(expected) bytes but \(actual) were given"
        case .tensorCountMismatch(let path, let written, let expected):
            return "\(path): \(written) of \(expected) tensors written"
        case .writerClosed(let path):
            return "\(path): the writer has already finished or failed"
        }
    }
}
