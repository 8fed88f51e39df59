import Foundation
import GGUF

/// Loads `Fixtures/iq/lowbit` (see `Fixtures/iq/README.md`): rows of the reference models with the
/// importance weights llama-quantize used and the bytes it wrote for them, synthetic edge-case
/// blocks with the bytes llama.cpp's `quantize_<type>` writes for them, and llama.cpp's
/// dequantization of both.
struct LowBitFixtures: Sendable {
    struct Entry: Decodable, Sendable {
        var tensor: String
        var rows: [Int]
        var rowLength: Int
        var weighted: Bool
    }
    struct Index: Decodable, Sendable {
        var types: [String: [Entry]]
        var edge: [String]
    }

    /// A run of rows of one tensor, quantized together with one importance vector (nil: none).
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var rowLength: Int
        var source: [Float]
        var importance: [Float]?
        var bytes: [UInt8]
        var expected: [Float]
    }

    static let shared: LowBitFixtures = {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/iq/lowbit")
        do {
            return try LowBitFixtures(directory: directory)
        } catch {
            fatalError("cannot load \(directory.path): \(error)")
        }
    }()

    let index: Index
    let directory: URL

    init(directory: URL) throws {
        self.directory = directory
        index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: directory.appendingPathComponent("index.json")))
    }

    func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    func floats(_ name: String) throws -> [Float] {
        let raw = try bytes(name)
        precondition(raw.count % 4 == 0, "\(name) is not a float array")
        return (0..<raw.count / 4).map { i in
            Float(bitPattern: UInt32(raw[4 * i]) | UInt32(raw[4 * i + 1]) << 8
                | UInt32(raw[4 * i + 2]) << 16 | UInt32(raw[4 * i + 3]) << 24)
        }
    }

    /// The row cases of `type`: one a fixture entry (its rows, quantized as one call).
    func rows(_ type: GGMLType) throws -> [Case] {
        guard let entries = index.types[type.name] else { fatalError("no fixture rows for \(type.name)") }
        let source = try floats("rows.\(type.name).f32")
        let bytes = try self.bytes("rows.\(type.name)")
        let expected = try floats("rows.\(type.name).dequantized")
        let weights = entries.contains(where: \.weighted) ? try floats("rows.\(type.name).weights") : []
        var cases: [Case] = []
        var e = 0, b = 0, w = 0
        for entry in entries {
            let count = entry.rows.count * entry.rowLength
            let byteCount = count / type.blockSize * type.typeSize
            cases.append(Case(description: "\(entry.tensor)\(entry.rows)", rowLength: entry.rowLength,
                              source: Array(source[e..<e + count]),
                              importance: entry.weighted ? Array(weights[w..<w + entry.rowLength]) : nil,
                              bytes: Array(bytes[b..<b + byteCount]), expected: Array(expected[e..<e + count])))
            e += count
            b += byteCount
            if entry.weighted { w += entry.rowLength }
        }
        precondition(e == source.count && b == bytes.count && w == weights.count, "rows.\(type.name) sizes disagree with index.json")
        return cases
    }

    /// The edge cases of `type`: one a 256-value block, a row of its own, with `edge.weights` when
    /// the type's rows are weighted.
    func edges(_ type: GGMLType) throws -> [Case] {
        let weighted = index.types[type.name]?.first?.weighted ?? false
        let source = try floats("edge.f32")
        let bytes = try self.bytes("edge.\(type.name)")
        let expected = try floats("edge.\(type.name).dequantized")
        let weights = weighted ? try floats("edge.weights") : nil
        let byteCount = 256 / type.blockSize * type.typeSize
        precondition(source.count == 256 * index.edge.count && bytes.count == byteCount * index.edge.count)
        var cases: [Case] = []
        for (k, name) in index.edge.enumerated() {
            let values = 256 * k..<256 * (k + 1)
            let block = byteCount * k..<byteCount * (k + 1)
            cases.append(Case(description: name, rowLength: 256, source: Array(source[values]), importance: weights,
                              bytes: Array(bytes[block]), expected: Array(expected[values])))
        }
        return cases
    }
}
