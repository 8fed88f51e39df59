/// How `GGUFWriter` splits its output into shards, with `llama-gguf-split --split`'s semantics.
///
/// Shards are named `<prefix>-00001-of-0000N.gguf` (`llama_split_path`), the prefix being the
/// output path without its `.gguf` extension. The first shard holds all metadata; every shard
/// ends its metadata with `split.no` (u16, 0-based), `split.tensors.count` (i32, tensors in the
/// whole model) and `split.count` (u16), in that order, exactly as `gguf-split.cpp` leaves them.
public enum SplitPolicy: Sendable, Equatable, Hashable {
    /// At most this many tensors per shard (`--split-max-tensors`).
    case maxTensors(Int)
    /// Start a new shard when the tensors' data, each padded to the alignment, would exceed this
    /// many bytes (`--split-max-size`; metadata is not counted). A tensor larger than the limit
    /// gets a shard of its own.
    case maxBytes(Int)

    /// The metadata keys llama.cpp uses for split models (`LLM_KV_SPLIT_*`).
    public enum Key {
        public static let number = "split.no"
        public static let count = "split.count"
        public static let tensorsCount = "split.tensors.count"
        public static let all = [number, count, tensorsCount]
    }

    /// The path of shard `index` (0-based) of `count` (`llama_split_path`: `%s-%05d-of-%05d.gguf`).
    public static func shardPath(prefix: String, index: Int, count: Int) -> String {
        "\(prefix)-\(zeroPadded(index + 1))-of-\(zeroPadded(count)).gguf"
    }

    /// The prefix for shards written to `path`: the path without a trailing `.gguf`.
    public static func prefix(forOutput path: String) -> String {
        path.hasSuffix(".gguf") ? String(path.dropLast(5)) : path
    }

    /// The prefix of `path` if it is shard `index` of `count` (`llama_split_prefix`), else nil.
    public static func prefix(ofShard path: String, index: Int, count: Int) -> String? {
        let suffix = "-\(zeroPadded(index + 1))-of-\(zeroPadded(count)).gguf"
        guard path.count > suffix.count, path.hasSuffix(suffix) else { return nil }
        return String(path.dropLast(suffix.count))
    }

    /// The tensor index ranges of each shard, for tensors of these byte counts.
    func shardRanges(byteCounts: [Int], alignment: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        var shardBytes = 0
        for (i, size) in byteCounts.enumerated() {
            let padded = size + (alignment - size % alignment) % alignment
            let split: Bool
            switch self {
            case .maxTensors(let n): split = i > 0 && i % n == 0
            case .maxBytes(let limit): split = i > start && shardBytes + padded > limit
            }
            if split {
                ranges.append(start..<i)
                start = i
                shardBytes = 0
            }
            shardBytes += padded
        }
        ranges.append(start..<byteCounts.count)
        return ranges
    }

    private static func zeroPadded(_ n: Int) -> String {
        let digits = String(n)
        return digits.count >= 5 ? digits : String(repeating: "0", count: 5 - digits.count) + digits
    }
}
