/// Writes a GGUF file (or a set of split shards) streaming and atomically.
///
/// All offsets are computed up front from the descriptors, so the header, metadata and tensor
/// infos are written first and the data is then streamed with `append(_:)`, one tensor at a time
/// in descriptor order, each padded with zeros to the alignment — the layout llama.cpp's
/// `gguf_write_to_file` produces and its loader demands. Output goes to `.<name>.tmp-<pid>` next
/// to each destination; `finish()` fsyncs and renames every shard into place. If the writer fails
/// or is released before `finish()` succeeds, its temporary files are deleted and no destination
/// is touched.
///
/// A file without tensors ends right after its (empty) tensor infos, as gguf-py writes vocab-only
/// files; llama.cpp would add padding, which its loader does not need.
///
/// Each tensor is stored with `n_dims = shape.count`, so descriptors taken from a read file write
/// back byte for byte (see `TensorDescriptor.droppingTrailingOnes()` for llama.cpp's own rule).
public final class GGUFWriter {
    /// The destination path given to `init`.
    public let path: String
    /// The files that `finish()` creates: `path` itself, or the shard paths when splitting.
    public let outputPaths: [String]
    /// The tensors, in write order.
    public let tensors: [TensorDescriptor]

    private struct Shard {
        let path: String
        let range: Range<Int>
        let header: [UInt8]
        /// Where each of its tensors' data starts in the file.
        let dataOffsets: [Int]
    }

    private let alignment: Int
    private let shards: [Shard]
    private var files: [OutputFile] = []
    private var nextTensor = 0
    /// Bytes of `tensors[nextTensor]` written so far by `appendPart(_:)`.
    private var partialBytes = 0
    private var state = State.open
    private enum State { case open, finished, failed }

    /// Prepares the output and writes the first file's header.
    ///
    /// - Parameters:
    ///   - path: the destination; with `split`, the shard names are derived from it
    ///     (`model.gguf` → `model-00001-of-00003.gguf`, …).
    ///   - metadata: the key/value pairs, written in this order. `general.alignment`, if present,
    ///     must be the u32 `alignment`. With `split`, any `split.*` keys are replaced.
    ///   - tensors: the tensors, in the order they will be appended.
    ///   - alignment: a power of two (llama.cpp's default is 32).
    ///   - version: 2 or 3.
    ///   - split: write shards as `llama-gguf-split` does (see `SplitPolicy`). Shards after the
    ///     first get a `general.alignment` key only if `alignment` is not 32.
    ///   - inputs: paths the output must not overwrite (compared by device and inode).
    public init(path: String, metadata: Metadata, tensors: [TensorDescriptor], alignment: Int = 32,
                version: UInt32 = 3, split: SplitPolicy? = nil, protecting inputs: [String] = []) throws(GGUFError) {
        // Validate what will be written.
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= Int(UInt32.max) else {
            throw .invalidOutput(path: path, reason: "alignment \(alignment) is not a power of two that fits in u32")
        }
        guard version == 2 || version == 3 else {
            throw .invalidOutput(path: path, reason: "GGUF version \(version) cannot be written (only 2 and 3)")
        }
        if let value = metadata["general.alignment"], value != .uint32(UInt32(alignment)) {
            throw .invalidOutput(path: path, reason: "general.alignment is \(value) (\(value.type.name)) but the writer's alignment is \(alignment)")
        }
        for (key, value) in metadata {
            if key.isEmpty { throw .invalidOutput(path: path, reason: "empty metadata key") }
            if let problem = GGUFEncoding.problem(with: value, key: key) {
                throw .invalidOutput(path: path, reason: problem)
            }
        }
        var names = Set<String>()
        for t in tensors {
            if t.name.utf8.count >= GGUFHeader.maxNameBytes {
                throw .invalidOutput(path: path, reason: "tensor name '\(t.name)' is longer than 63 bytes")
            }
            if !names.insert(t.name).inserted {
                throw .invalidOutput(path: path, reason: "duplicate tensor name '\(t.name)'")
            }
            if TensorDescriptor.byteCount(shape: t.shape, type: t.type) == nil {
                throw .invalidOutput(path: path, reason: "tensor '\(t.name)' has shape \(t.shape), invalid for type \(t.type.name)")
            }
        }

        // Plan the files.
        var plans: [(path: String, range: Range<Int>, metadata: Metadata)] = []
        if let split {
            switch split {
            case .maxTensors(let n) where n < 1, .maxBytes(let n) where n < 1:
                throw .invalidOutput(path: path, reason: "split limit \(n) must be positive")
            default: break
            }
            guard tensors.count <= Int(Int32.max) else {
                throw .invalidOutput(path: path, reason: "\(tensors.count) tensors do not fit split.tensors.count (i32)")
            }
            let ranges = split.shardRanges(byteCounts: tensors.map(\.byteCount), alignment: alignment)
            guard ranges.count <= Int(UInt16.max) else {
                throw .invalidOutput(path: path, reason: "\(ranges.count) shards do not fit split.count (u16)")
            }
            let prefix = SplitPolicy.prefix(forOutput: path)
            for (i, range) in ranges.enumerated() {
                // The same calls, in the same order, as gguf-split.cpp's split_strategy.
                var m = Metadata()
                if i == 0 {
                    m = metadata
                } else if alignment != GGUFHeader.defaultAlignment {
                    m.set("general.alignment", .uint32(UInt32(alignment)))
                }
                m.set(SplitPolicy.Key.number, .uint16(UInt16(i)))
                m.set(SplitPolicy.Key.count, .uint16(0))
                m.set(SplitPolicy.Key.tensorsCount, .int32(Int32(tensors.count)))
                m.set(SplitPolicy.Key.count, .uint16(UInt16(ranges.count)))
                plans.append((SplitPolicy.shardPath(prefix: prefix, index: i, count: ranges.count), range, m))
            }
        } else {
            plans = [(path, 0..<tensors.count, metadata)]
        }

        // Refuse to replace an input.
        let protected = inputs.compactMap { p in FileIdentity(path: p).map { (p, $0) } }
        for plan in plans {
            guard let id = FileIdentity(path: plan.path) else { continue }
            if let (input, _) = protected.first(where: { $0.1 == id }) {
                throw .wouldOverwriteInput(path: plan.path, input: input)
            }
        }

        // Offsets and headers.
        var shards: [Shard] = []
        for plan in plans {
            var offsets: [Int] = []
            var offset = 0
            for t in tensors[plan.range] {
                offsets.append(offset)
                let (end, o1) = offset.addingReportingOverflow(t.byteCount)
                let (padded, o2) = end.addingReportingOverflow((alignment - end % alignment) % alignment)
                if o1 || o2 { throw .invalidOutput(path: plan.path, reason: "tensor data exceeds 64-bit offsets") }
                offset = padded
            }
            let header = GGUFEncoding.header(version: version, metadata: plan.metadata,
                                             tensors: Array(tensors[plan.range]), offsets: offsets, alignment: alignment)
            shards.append(Shard(path: plan.path, range: plan.range, header: header, dataOffsets: offsets.map { header.count + $0 }))
        }

        self.path = path
        self.outputPaths = shards.map(\.path)
        self.tensors = tensors
        self.alignment = alignment
        self.shards = shards
        try openShard(0)
    }

    deinit {
        if state != .finished { discardAll() }
    }

    /// Writes the data of the next tensor, then zeros up to the alignment.
    /// - Throws: `.wrongTensorSize` if `data.count` differs from the descriptor's `byteCount`
    ///   (nothing is written; the writer stays usable), `.tensorCountMismatch` after the last
    ///   tensor, `.writeFailed` on an I/O error (the writer is then closed and its files deleted).
    public func append(_ data: UnsafeRawBufferPointer) throws(GGUFError) {
        guard state == .open else { throw .writerClosed(path: path) }
        if nextTensor < tensors.count, partialBytes != 0 || data.count != tensors[nextTensor].byteCount {
            let t = tensors[nextTensor]
            throw .wrongTensorSize(path: path, tensor: t.name, expected: t.byteCount, actual: partialBytes + data.count)
        }
        try appendPart(data)
    }

    /// Writes the next piece of the current tensor's data, so that a tensor can be produced in row
    /// chunks without ever being whole in memory. The tensor is complete, and padded, when its pieces
    /// add up to its byte count.
    /// - Throws: `.wrongTensorSize` if the pieces would exceed the byte count (nothing is written),
    ///   otherwise as `append(_:)`.
    public func appendPart(_ data: UnsafeRawBufferPointer) throws(GGUFError) {
        try appendPart(count: data.count) { (file) throws(GGUFError) in try file.append(data) }
    }

    /// `appendPart(_:)` for the `count` bytes at `offset` in `region`, a buffer whose base address is
    /// `DirectIO.alignment`-aligned: bytes placed at their file offset's position within a page
    /// (`fileOffset(ofTensor:)` plus the bytes before them, modulo the alignment) go to the disk from
    /// `region` itself, without a copy, when the file is written directly. `region[..<offset]` may be
    /// overwritten.
    public func appendPart(region: UnsafeMutableRawBufferPointer, offset: Int, count: Int) throws(GGUFError) {
        precondition(offset >= 0 && count >= 0 && offset + count <= region.count, "bytes outside the region")
        try appendPart(count: count) { (file) throws(GGUFError) in try file.append(region: region, offset: offset, count: count) }
    }

    /// Where the data of `tensors[index]` starts in its file (the first file, or its shard).
    public func fileOffset(ofTensor index: Int) -> Int {
        guard let shard = shards.first(where: { $0.range.contains(index) }) else {
            preconditionFailure("tensor index \(index) is outside 0..<\(tensors.count)")
        }
        return shard.dataOffsets[index - shard.range.lowerBound]
    }

    private func appendPart(count: Int, _ write: (OutputFile) throws(GGUFError) -> Void) throws(GGUFError) {
        guard state == .open else { throw .writerClosed(path: path) }
        guard nextTensor < tensors.count else {
            throw .tensorCountMismatch(path: path, written: tensors.count + 1, expected: tensors.count)
        }
        let t = tensors[nextTensor]
        guard partialBytes + count <= t.byteCount else {
            throw .wrongTensorSize(path: path, tensor: t.name, expected: t.byteCount, actual: partialBytes + count)
        }
        do throws(GGUFError) {
            if partialBytes == 0, !shards[files.count - 1].range.contains(nextTensor) {
                try closeCurrentShard()
                try openShard(files.count)
            }
            try write(files[files.count - 1])
            partialBytes += count
            if partialBytes == t.byteCount {
                try writeZeros((alignment - t.byteCount % alignment) % alignment)
            }
        } catch {
            fail()
            throw error
        }
        if partialBytes == t.byteCount {
            nextTensor += 1
            partialBytes = 0
        }
    }

    /// Writes the data of the next tensor from an array of bytes; see `append(_:)`.
    public func append(_ data: [UInt8]) throws(GGUFError) {
        try withBytes(data) { (raw) throws(GGUFError) in try append(raw) }
    }

    /// Checks that every tensor was written, then flushes, fsyncs and renames every file into place.
    /// - Throws: `.tensorCountMismatch` if tensors are missing (the writer stays open: append the
    ///   rest, or release or `cancel()` it to delete its files); `.writeFailed` on an I/O error
    ///   (the temporary files are deleted).
    public func finish() throws(GGUFError) {
        guard state == .open else { throw .writerClosed(path: path) }
        guard nextTensor == tensors.count else {
            throw .tensorCountMismatch(path: path, written: nextTensor, expected: tensors.count)
        }
        do throws(GGUFError) {
            try closeCurrentShard()
            while files.count < shards.count {  // shards without tensors (only with no tensors at all)
                try openShard(files.count)
                try closeCurrentShard()
            }
            for file in files { try file.commit() }
        } catch {
            fail()
            throw error
        }
        OutputFile.syncDirectory(of: path)
        state = .finished
    }

    /// Abandons the output: deletes the temporary files. Later calls throw `.writerClosed`.
    public func cancel() {
        if state == .open { fail() }
    }

    // MARK: Internals

    private func openShard(_ index: Int) throws(GGUFError) {
        let file = try OutputFile(path: shards[index].path)
        files.append(file)
        do throws(GGUFError) {
            try withBytes(shards[index].header) { (raw) throws(GGUFError) in try write(raw) }
        } catch {
            fail()
            throw error
        }
    }

    /// `Array.withUnsafeBytes` with a typed error (it only rethrows `any Error`).
    private func withBytes(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(GGUFError) -> Void) throws(GGUFError) {
        let result: Result<Void, GGUFError> = array.withUnsafeBytes { raw in
            Result { () throws(GGUFError) in try body(raw) }
        }
        try result.get()
    }

    private func closeCurrentShard() throws(GGUFError) {
        try files[files.count - 1].syncAndClose()
    }

    private func fail() {
        state = .failed
        discardAll()
    }

    private func discardAll() {
        for i in files.indices { files[i].discard() }
    }

    private func write(_ data: UnsafeRawBufferPointer) throws(GGUFError) {
        try files[files.count - 1].append(data)
    }

    private func writeZeros(_ count: Int) throws(GGUFError) {
        try files[files.count - 1].appendZeros(count)
    }
}
