import GGUF

/// An importance matrix as llama-quantize uses it (`--imatrix FILE`): per weight tensor, one weight per
/// column (per column and expert for 3-D expert tensors), read from llama.cpp's GGUF imatrix format or
/// its legacy `.dat` format (`common_imatrix_load` in `common/imatrix-loader.cpp`) and normalized as
/// `load_imatrix` in `tools/quantize/quantize.cpp` does.
///
/// - GGUF (`general.type = imatrix`): tensors `<name>.in_sum2` (F32, `columns × experts` values) and
///   `<name>.counts` (F32, one per expert, rounded to an integer with `lround`); the weight of column
///   `i` of expert `j` is `in_sum2[j·columns + i] / count[j]`, or 1 when that count is 0. The keys
///   `imatrix.datasets`, `imatrix.chunk_count` and `imatrix.chunk_size` must all be present.
/// - Legacy `.dat`: `int32` entry count, then per entry an `int32` name length, the name, `int32`
///   `ncall`, `int32` value count and the values (already divided by the token count), weights
///   `value / ncall` (the values unchanged when `ncall ≤ 0`); optionally followed by an `int32` chunk
///   count and an `int32`-length dataset name.
public struct ImportanceMatrix: Sendable {
    /// The file's format.
    public enum Format: Sendable, Equatable { case gguf, legacy }

    /// The path the matrix was read from.
    public let path: String
    public let format: Format
    /// The weights of each tensor by its GGUF name (`blk.0.attn_q.weight`).
    public private(set) var entries: [String: [Float]]
    /// `imatrix.datasets` (GGUF) or the trailing dataset name (legacy); may be empty.
    public let datasets: [String]
    /// `imatrix.chunk_count` (GGUF) or the trailing chunk count (legacy); 0 when absent.
    public let chunkCount: Int

    public init(path: String, format: Format, entries: [String: [Float]], datasets: [String], chunkCount: Int) {
        self.path = path
        self.format = format
        self.entries = entries
        self.datasets = datasets
        self.chunkCount = chunkCount
    }

    /// Reads the importance matrix at `path`: llama.cpp's GGUF format when the file starts with
    /// `GGUF`, else the legacy format (as `common_imatrix_load` falls back).
    ///
    /// - Throws: `ImportanceMatrixError` naming the file and what is wrong (llama-quantize's refusals:
    ///   no entries, missing metadata, sums without counts, non-F32 data, non-finite weights).
    public init(path: String) throws(ImportanceMatrixError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .unreadable(error) }
        let magic: [UInt8] = Array(file.bytes.prefix(4))
        if magic == Array("GGUF".utf8) {
            self = try Self.readGGUF(path: path)
        } else {
            self = try Self.readLegacy(file)
        }
        for (name, weights) in entries {
            if let bad = weights.first(where: { !$0.isFinite }) { throw .nonFinite(path: path, tensor: name, value: bad) }
        }
    }

    /// llama-quantize's `--include-weights` / `--exclude-weights`: keeps only the entries whose name
    /// contains one of `including` (when not empty), after dropping those containing one of `excluding`.
    public func filtered(including: [String] = [], excluding: [String] = []) -> ImportanceMatrix {
        var copy = self
        copy.entries = entries.filter { name, _ in
            if excluding.contains(where: { name.contains($0) }) { return false }
            return including.isEmpty || including.contains(where: { name.contains($0) })
        }
        return copy
    }

    /// The weights llama-quantize passes when quantizing the tensor `name` of shape `shape` (ggml order):
    /// its entry when that has `columns × experts` values (`shape[0] × shape[2]`), nil when it has none.
    ///
    /// - Throws: `.sizeMismatch` when the entry has another size, except for `token_embd.weight`, whose
    ///   mismatched entry llama-quantize ignores.
    public func weights(for name: String, shape: [Int]) throws(ImportanceMatrixError) -> [Float]? {
        guard let weights = entries[name] else { return nil }
        let expected = shape[0] * (shape.count > 2 ? shape[2] : 1)
        if weights.count == expected { return weights }
        if name == "token_embd.weight" || name == "per_layer_token_embd.weight" { return nil }
        throw .sizeMismatch(path: path, tensor: name, values: weights.count, expected: expected)
    }
}

// MARK: - GGUF format

extension ImportanceMatrix {
    static let sumsSuffix = ".in_sum2"
    static let countsSuffix = ".counts"

    static func readGGUF(path: String) throws(ImportanceMatrixError) -> ImportanceMatrix {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .unreadable(error) }
        guard !file.tensors.isEmpty else { throw .empty(path: path) }
        for key in ["imatrix.datasets", "imatrix.chunk_count", "imatrix.chunk_size"] where !file.metadata.contains(key) {
            throw .missingMetadata(path: path, key: key)
        }
        let datasets = file.metadata["imatrix.datasets"]?.array?.compactMap(\.string) ?? []
        guard case let .uint32(chunkCount) = file.metadata["imatrix.chunk_count"] else {
            throw .badMetadata(path: path, key: "imatrix.chunk_count", expected: "UINT32")
        }

        var pairs: [String: (sums: TensorInfo?, counts: TensorInfo?)] = [:]
        for tensor in file.tensors {
            if tensor.name.hasSuffix(sumsSuffix) {
                pairs[String(tensor.name.dropLast(sumsSuffix.count)), default: (nil, nil)].sums = tensor
            } else if tensor.name.hasSuffix(countsSuffix) {
                pairs[String(tensor.name.dropLast(countsSuffix.count)), default: (nil, nil)].counts = tensor
            }
        }
        var entries: [String: [Float]] = [:]
        for (name, pair) in pairs {
            guard let sums = pair.sums, let counts = pair.counts else { throw .unpaired(path: path, tensor: name) }
            guard sums.type == .f32, counts.type == .f32 else { throw .notF32(path: path, tensor: name) }
            let sumValues = file.withBytes(of: sums, floats)
            let countValues = file.withBytes(of: counts, floats)
            guard !countValues.isEmpty, sumValues.count % countValues.count == 0 else {
                throw .countsMismatch(path: path, tensor: name, values: sumValues.count, counts: countValues.count)
            }
            let columns = sumValues.count / countValues.count
            var weights = [Float](repeating: 1, count: sumValues.count)
            for (expert, rawCount) in countValues.enumerated() {
                // common_imatrix_load keeps lround(count) as an int64; load_imatrix divides by it as a float.
                guard rawCount.isFinite, rawCount.magnitude < 0x1p62 else {
                    throw .badCount(path: path, tensor: name, count: rawCount)
                }
                let count = Float(Int64(rawCount.rounded(.toNearestOrAwayFromZero)))
                guard count > 0 else { continue }
                for i in expert * columns ..< (expert + 1) * columns { weights[i] = sumValues[i] / count }
            }
            entries[name] = weights
        }
        return ImportanceMatrix(path: path, format: .gguf, entries: entries, datasets: datasets,
                                chunkCount: Int(chunkCount))
    }

    static func floats(_ bytes: UnsafeRawBufferPointer) -> [Float] {
        (0 ..< bytes.count / 4).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
}

// MARK: - Legacy format

extension ImportanceMatrix {
    static func readLegacy(_ file: MappedFile) throws(ImportanceMatrixError) -> ImportanceMatrix {
        let path = file.path
        var cursor = file.cursor()
        func read(_ what: @autoclosure () -> String) throws(ImportanceMatrixError) -> Int32 {
            do { return try cursor.read(Int32.self, what()) } catch { throw .unreadable(error) }
        }
        /// An `int32`-length string, read as the C code does (up to its first NUL); nil when the
        /// length is not positive or runs past the end.
        func bytes(_ length: Int32) -> String? {
            guard length > 0, Int(length) <= cursor.remaining else { return nil }
            let start = cursor.offset
            cursor.seek(to: start + Int(length))
            let raw = UnsafeRawBufferPointer(rebasing: cursor.bytes[start ..< start + Int(length)])
            return String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }

        let entryCount = try read("entry count")
        guard entryCount >= 1 else { throw .empty(path: path) }
        var entries: [String: [Float]] = [:]
        for e in 1 ... Int(entryCount) {
            let nameOffset = cursor.offset
            let length = try read("name length of entry \(e)")
            guard length >= 0, Int(length) <= cursor.remaining else {
                throw .unreadable(.countExceedsFile(path: path, offset: nameOffset, what: "name length of entry \(e)",
                                                    count: UInt64(bitPattern: Int64(length))))
            }
            let name = bytes(length) ?? ""
            let ncall = try read("call count of \(name)")
            let valueCount = try read("value count of \(name)")
            guard valueCount >= 1 else { throw .noValues(path: path, tensor: name) }
            guard Int(valueCount) * 4 <= cursor.remaining else {
                throw .unreadable(.truncated(path: path, offset: cursor.offset, what: "\(valueCount) values of \(name)"))
            }
            let values = UnsafeRawBufferPointer(rebasing: cursor.bytes[cursor.offset ..< cursor.offset + Int(valueCount) * 4])
            cursor.seek(to: cursor.offset + Int(valueCount) * 4)
            // load_imatrix divides the stored values by ncall (an integer converted to float).
            entries[name] = floats(values).map { ncall > 0 ? $0 / Float(ncall) : $0 }
        }
        // The trailing chunk count and dataset name are optional.
        var chunkCount = 0
        var datasets: [String] = []
        if cursor.remaining >= 4 {
            chunkCount = Int(try read("chunk count"))
            if cursor.remaining >= 4, let dataset = bytes(try read("dataset name length")) {
                datasets.append(dataset)
            }
        }
        return ImportanceMatrix(path: path, format: .legacy, entries: entries, datasets: datasets, chunkCount: chunkCount)
    }
}
