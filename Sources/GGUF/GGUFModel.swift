/// One logical model: a single GGUF file, or all the shards of a split model seen as one.
///
/// A file whose metadata has `split.count` > 1 is one shard of a model named
/// `<prefix>-0000k-of-0000N.gguf` (`llama_split_path`); opening any shard opens all N, checks
/// that each says it is shard k of N, that no tensor appears twice and that the shards together
/// hold `split.tensors.count` tensors. `metadata` is the first shard's without the `split.*` keys,
/// so writing it back with a `SplitPolicy` reproduces the shards' metadata.
public struct GGUFModel: Sendable {
    /// The path of the first (or only) file.
    public let path: String
    /// The files, in shard order.
    public let files: [GGUFFile]
    /// The first file's metadata without `split.no`, `split.count` and `split.tensors.count`.
    public let metadata: Metadata
    /// Every tensor, in shard order then file order. Offsets are relative to their own file.
    public let tensors: [TensorInfo]

    private struct Location: Sendable {
        let file: Int
        let index: Int
    }
    private let locations: [String: Location]

    /// Opens the model whose (first or any) file is at `path`.
    /// - Throws: any error of `GGUFFile.init` (naming the shard at fault), or `.invalidSplit` when
    ///   the shards do not fit together.
    public init(path: String) throws(GGUFError) {
        let given = try GGUFFile(path: path)
        var files = [given]
        if let countValue = given.metadata[SplitPolicy.Key.count] {
            guard let count = countValue.int, (1...Int(UInt16.max)).contains(count) else {
                throw .invalidSplit(path: path, reason: "split.count is \(countValue), expected 1 to 65535")
            }
            guard let number = given.metadata[SplitPolicy.Key.number]?.int, (0..<count).contains(number) else {
                throw .invalidSplit(path: path, reason: "split.count is \(count) but split.no is \(given.metadata[SplitPolicy.Key.number].map(\.description) ?? "missing")")
            }
            if count > 1 {
                guard let prefix = SplitPolicy.prefix(ofShard: path, index: number, count: count) else {
                    throw .invalidSplit(path: path, reason: "is shard \(number + 1) of \(count) but its name does not end in '-\(SplitPolicy.shardPath(prefix: "", index: number, count: count).dropFirst())'")
                }
                files = []
                for i in 0..<count {
                    let file = i == number ? given : try GGUFFile(path: SplitPolicy.shardPath(prefix: prefix, index: i, count: count))
                    let no = file.metadata[SplitPolicy.Key.number]?.int
                    let n = file.metadata[SplitPolicy.Key.count]?.int
                    guard no == i, n == count else {
                        throw .invalidSplit(path: file.path, reason: "says it is shard \(no.map { "\($0 + 1)" } ?? "?") of \(n.map(String.init) ?? "?"), expected shard \(i + 1) of \(count)")
                    }
                    files.append(file)
                }
            }
        }

        var tensors: [TensorInfo] = []
        var locations: [String: Location] = [:]
        for (f, file) in files.enumerated() {
            for (i, t) in file.tensors.enumerated() {
                if let other = locations.updateValue(Location(file: f, index: i), forKey: t.name) {
                    throw .invalidSplit(path: file.path, reason: "tensor '\(t.name)' is also in \(files[other.file].path)")
                }
                tensors.append(t)
            }
        }
        if files.count > 1 || given.metadata.contains(SplitPolicy.Key.count) {
            for file in files {
                guard let expected = file.metadata[SplitPolicy.Key.tensorsCount] else { continue }
                guard expected.int == tensors.count else {
                    throw .invalidSplit(path: file.path, reason: "split.tensors.count is \(expected) but the shards hold \(tensors.count) tensors")
                }
            }
        }

        var metadata = files[0].metadata
        for key in SplitPolicy.Key.all { metadata.remove(key) }
        self.path = files[0].path
        self.files = files
        self.metadata = metadata
        self.tensors = tensors
        self.locations = locations
    }

    /// Whether the model has more than one file.
    public var isSplit: Bool { files.count > 1 }

    /// The tensor named `name`, or nil.
    public func tensor(named name: String) -> TensorInfo? {
        locations[name].map { files[$0.file].tensors[$0.index] }
    }

    /// The file holding the tensor named `name`, or nil.
    public func file(containing name: String) -> GGUFFile? {
        locations[name].map { files[$0.file] }
    }

    /// The data of the tensor named `name`, without copying; valid while this model's files live.
    /// - Throws: `.tensorNotFound` if there is no such tensor.
    public func bytes(of name: String) throws(GGUFError) -> UnsafeRawBufferPointer {
        guard let l = locations[name] else { throw .tensorNotFound(path: path, name: name) }
        return files[l.file].bytes(of: files[l.file].tensors[l.index])
    }

    /// Copies bytes of `tensor`'s data with `pread` (see `GGUFFile.copyBytes(of:ranges:into:)`).
    public func copyBytes(of tensor: TensorInfo, ranges: [Range<Int>], into buffer: UnsafeMutableRawBufferPointer) throws(GGUFError) {
        guard let file = file(containing: tensor.name) else {
            preconditionFailure("tensor '\(tensor.name)' is not one of \(path)'s tensors")
        }
        try file.copyBytes(of: tensor, ranges: ranges, into: buffer)
    }

    /// Drops the pages of `tensor`'s data from resident memory (see `GGUFFile.releasePages(of:)`).
    public func releasePages(of tensor: TensorInfo) {
        file(containing: tensor.name)?.releasePages(of: tensor)
    }

    /// Drops the pages of bytes `range` of `tensor`'s data from resident memory.
    public func releasePages(of tensor: TensorInfo, bytes range: Range<Int>) {
        file(containing: tensor.name)?.releasePages(of: tensor, bytes: range)
    }

    /// The data of `tensor` (one of this model's `tensors`), without copying; valid while this model's
    /// files live (see `GGUFFile.bytes(of:)`: keep the model alive across every use of the pointer).
    public func bytes(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        guard let l = locations[tensor.name] else {
            preconditionFailure("tensor '\(tensor.name)' is not one of \(path)'s tensors")
        }
        return files[l.file].bytes(of: tensor)
    }

    /// Calls `body` with the data of `tensor`, without copying, keeping its file alive until it returns.
    public func withBytes<Result, Failure>(
        of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(files) {} }
        return try body(bytes(of: tensor))
    }
}
