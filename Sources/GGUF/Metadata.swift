/// A GGUF file's key/value pairs, in file order, with O(1) lookup by key.
///
/// Order matters for byte-identical output: llama.cpp writes keys in the order they were added,
/// and its setters (`gguf_set_val_*`) remove an existing key and append it at the end. `set(_:_:)`
/// does the same.
public struct Metadata: Sendable, Equatable, Sequence {
    public typealias Element = (key: String, value: MetadataValue)

    /// The keys, in order.
    public private(set) var keys: [String] = []
    /// The values, parallel to `keys`.
    public private(set) var values: [MetadataValue] = []
    private var index: [String: Int] = [:]

    /// An empty metadata set.
    public init() {}

    /// Metadata with these pairs in this order; a repeated key keeps its last value, moved to the end
    /// like `set(_:_:)` does.
    public init(_ pairs: some Sequence<(String, MetadataValue)>) {
        for (key, value) in pairs { set(key, value) }
    }

    /// The number of pairs.
    public var count: Int { keys.count }

    /// Whether there are no pairs.
    public var isEmpty: Bool { keys.isEmpty }

    /// The value for `key`, or nil.
    public subscript(key: String) -> MetadataValue? {
        guard let i = index[key] else { return nil }
        return values[i]
    }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool { index[key] != nil }

    /// Sets `key` to `value`. Like llama.cpp's `gguf_set_val_*`, an existing key is removed from its
    /// place first, so the key always ends up last.
    public mutating func set(_ key: String, _ value: MetadataValue) {
        remove(key)
        index[key] = keys.count
        keys.append(key)
        values.append(value)
    }

    /// Removes `key` if present (like `gguf_remove_key`), keeping the order of the others.
    public mutating func remove(_ key: String) {
        guard let i = index.removeValue(forKey: key) else { return }
        keys.remove(at: i)
        values.remove(at: i)
        for j in i..<keys.count { index[keys[j]] = j }
    }

    /// Appends a pair whose key is known to be new (the parser checks for duplicates itself).
    mutating func appendNew(_ key: String, _ value: MetadataValue) {
        index[key] = keys.count
        keys.append(key)
        values.append(value)
    }

    /// Iterates the pairs in order.
    public struct Iterator: IteratorProtocol {
        let keys: [String]
        let values: [MetadataValue]
        var position = 0

        public mutating func next() -> Element? {
            guard position < keys.count else { return nil }
            defer { position += 1 }
            return (keys[position], values[position])
        }
    }

    public func makeIterator() -> Iterator { Iterator(keys: keys, values: values) }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.keys == rhs.keys && lhs.values == rhs.values
    }
}

extension Metadata: ExpressibleByDictionaryLiteral {
    /// Metadata from a literal, in the literal's order.
    public init(dictionaryLiteral elements: (String, MetadataValue)...) {
        self.init(elements)
    }
}
