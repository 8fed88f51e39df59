/// The order in which llama-quantize writes tensors: llama.cpp's `weight_name_comparer`
/// (`llama-model-loader.h`), the ordering of the loader's `weights_map`.
///
/// Tensors outside layers come first, then `blk.N.*` by N (numeric: `blk.2` before `blk.10`); within
/// one group, names compare bytewise (C++ `std::string <`). The layer is read like
/// `sscanf(name, "blk.%d.", &layer)`: after `blk.`, optional spaces, an optional sign and digits; names
/// that do not match count as layer −1.
public enum TensorOrder {
    /// Whether the tensor named `a` comes before the one named `b` in llama-quantize's output.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        let layerA = layer(of: a), layerB = layer(of: b)
        if layerA != layerB { return layerA < layerB }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The indices of `names` in llama-quantize's output order (a stable sort by ``precedes(_:_:)``).
    public static func sortedIndices(of names: [String]) -> [Int] {
        let keys = names.map { (layer: layer(of: $0), name: $0) }
        return keys.indices.sorted { i, j in
            let a = keys[i], b = keys[j]
            if a.layer != b.layer { return a.layer < b.layer }
            if a.name == b.name { return i < j }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
    }

    /// The layer number of a tensor name as `sscanf(name, "blk.%d.", &layer)` reads it, or −1.
    public static func layer(of name: String) -> Int {
        var bytes = name.utf8[...]
        guard bytes.starts(with: "blk.".utf8) else { return -1 }
        bytes = bytes.dropFirst(4)
        // %d skips white space (isspace: space, \t, \n, \v, \f, \r).
        while let c = bytes.first, c == 0x20 || (0x09...0x0D).contains(c) { bytes = bytes.dropFirst() }
        var negative = false
        if let c = bytes.first, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
            negative = c == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var value = 0
        var digits = 0
        while let c = bytes.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) {
            // Saturate far beyond Int32 so absurd layer numbers sort last instead of trapping.
            value = Swift.min(value &* 10 &+ Int(c &- UInt8(ascii: "0")), 1 << 40)
            digits += 1
            bytes = bytes.dropFirst()
        }
        guard digits > 0 else { return -1 }
        return negative ? -value : value
    }
}
