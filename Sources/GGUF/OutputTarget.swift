#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a `GGUFWriter` will write, checked before any work is done: the files it will create (one,
/// or the shards of a split), whether they can be created, and the temporary files a killed run to
/// the same output left behind.
public struct OutputTarget: Sendable, Equatable {
    /// The path as the user gave it.
    public var path: String
    public var split: SplitPolicy?
    /// Replace existing files (`--force`).
    public var overwrite: Bool

    public init(path: String, split: SplitPolicy? = nil, overwrite: Bool = false) {
        self.path = path
        self.split = split
        self.overwrite = overwrite
    }

    /// The files written for tensors of these byte counts (at the default alignment): `path`, or its
    /// shard names.
    public func paths(byteCounts: [Int]) -> [String] {
        guard let split else { return [path] }
        let count = split.shardRanges(byteCounts: byteCounts, alignment: GGUFHeader.defaultAlignment).count
        let prefix = SplitPolicy.prefix(forOutput: path)
        return (0 ..< count).map { SplitPolicy.shardPath(prefix: prefix, index: $0, count: count) }
    }

    /// Checks that every file of the output can be created: its directory exists and is writable,
    /// it is not a directory, not one of `inputs`, and does not exist unless `overwrite` is set.
    /// Errors name the path the user gave.
    public func check(byteCounts: [Int], protecting inputs: [String]) throws(GGUFError) {
        let directory = Self.directory(of: path)
        var info = stat()
        guard stat(directory, &info) == 0 else { throw .unusableOutput(path: path, problem: .missingDirectory(directory)) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .unusableOutput(path: path, problem: .missingDirectory(directory)) }
        guard access(directory, W_OK) == 0 else { throw .unusableOutput(path: path, problem: .notWritable(directory)) }
        let protected = inputs.compactMap { input in FileIdentity(path: input).map { (input, $0) } }
        for file in paths(byteCounts: byteCounts) {
            guard stat(file, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR { throw .unusableOutput(path: file, problem: .isDirectory) }
            if let identity = FileIdentity(path: file), let (input, _) = protected.first(where: { $0.1 == identity }) {
                throw .wouldOverwriteInput(path: file, input: input)
            }
            if !overwrite { throw .unusableOutput(path: file, problem: .exists) }
        }
    }

    /// Deletes the temporary files (`.<name>.tmp-<pid>`) that runs writing this output left behind
    /// when they were killed (their process no longer exists), and returns their paths.
    public func removeLeftovers() -> [String] {
        let directory = Self.directory(of: path)
        let stem = "." + Self.fileName(SplitPolicy.prefix(forOutput: path))
        let plain = "." + Self.fileName(path)
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var removed: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(stem), let marker = name.ranges(of: ".tmp-").last,
                  let pid = Int32(name[marker.upperBound...]), pid > 0, pid != getpid() else { continue }
            let written = String(name[..<marker.lowerBound])
            guard written == plain || Self.isShardName(written.dropFirst(stem.count)) else { continue }
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }
            let file = directory == "." && !path.hasPrefix("./") ? name : directory + "/" + name
            if unlink(file) == 0 { removed.append(file) }
        }
        return removed.sorted()
    }

    /// `-00001-of-00003.gguf`.
    private static func isShardName(_ suffix: Substring) -> Bool {
        let parts = suffix.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0].isEmpty && parts[1].count >= 5 && parts[1].allSatisfy(\.isNumber)
            && parts[2].hasPrefix("of") && parts[2].hasSuffix(".gguf")
            && parts[2].dropFirst(2).dropLast(5).allSatisfy(\.isNumber)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func fileName(_ path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }
}

/// Why an output path cannot be written.
public enum OutputProblem: Sendable, Equatable, CustomStringConvertible {
    /// The directory that would hold it does not exist (or is not a directory).
    case missingDirectory(String)
    /// The directory that would hold it is not writable.
    case notWritable(String)
    /// The path names a directory.
    case isDirectory
    /// The file exists and overwriting was not asked for.
    case exists

    public var description: String {
        switch self {
        case let .missingDirectory(directory): "directory \(directory) does not exist"
        case let .notWritable(directory): "directory \(directory) is not writable"
        case .isDirectory: "is a directory"
        case .exists: "exists; pass --force to overwrite it"
        }
    }
}
