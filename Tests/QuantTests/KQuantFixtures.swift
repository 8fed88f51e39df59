import Foundation
import GGUF

/// Loads `Fixtures/kquants` (see its README.md): rows of the reference model with llama-quantize's
/// bytes for them, synthetic edge-case blocks with llama.cpp's bytes, and gguf-py's dequantization.
/// `Fixtures/iq` has the same layout (``iq``).
struct KQuantFixtures: Sendable {
    struct Row: Decodable, Sendable {
        var tensor: String
        var row: Int
        var elements: Int
    }
    struct Edge: Decodable, Sendable {
        var name: String
        var elements: Int
    }
    struct Index: Decodable, Sendable {
        var rows: [Row]
        var edge: [Edge]
        var types: [String]
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/kquants")

    static let shared = load(directory)

    /// `Fixtures/iq`: the IQ4_NL, IQ4_XS, TQ1_0 and TQ2_0 codecs' oracle data, same layout.
    static let iq = load(directory.deletingLastPathComponent().appendingPathComponent("iq"))

    static func load(_ directory: URL) -> KQuantFixtures {
        do {
            return try KQuantFixtures(directory: directory)
        } catch {
            fatalError("cannot load \(directory.path): \(error)")
        }
    }

    static let types: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

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

    /// A case with its source floats, the reference bytes and the reference dequantization.
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var source: ArraySlice<Float>
        var bytes: ArraySlice<UInt8>
        var expected: ArraySlice<Float>
    }

    /// The cases of `set` ("rows" or "edge") for `type`, in index order.
    func cases(_ set: String, _ type: GGMLType) throws -> [Case] {
        let source = try floats("\(set).f32")
        let bytes = try self.bytes("\(set).\(type.name)")
        let expected = try floats("\(set).\(type.name).f32")
        let items: [(String, Int)] = set == "rows"
            ? index.rows.map { ("\($0.tensor)[\($0.row)]", $0.elements) }
            : index.edge.map { ($0.name, $0.elements) }
        var cases: [Case] = []
        var e = 0, b = 0
        for (name, n) in items {
            let nb = type.byteCount(elements: n)!
            cases.append(Case(description: "\(type.name) \(name)", source: source[e..<e + n],
                              bytes: bytes[b..<b + nb], expected: expected[e..<e + n]))
            e += n
            b += nb
        }
        precondition(e == source.count && b == bytes.count && e == expected.count, "index.json does not match the files")
        return cases
    }
}

/// The first index where two float arrays differ bitwise, with both values, or nil.
func firstBitDifference(_ a: some Collection<Float>, _ b: some Collection<Float>) -> String? {
    guard a.count == b.count else { return "counts \(a.count) vs \(b.count)" }
    for (i, (x, y)) in zip(a, b).enumerated() where x.bitPattern != y.bitPattern {
        return "element \(i): \(x) (0x\(String(x.bitPattern, radix: 16))) vs \(y) (0x\(String(y.bitPattern, radix: 16)))"
    }
    return nil
}

/// The first index where two byte arrays differ, or nil.
func firstByteDifference(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> String? {
    guard a.count == b.count else { return "counts \(a.count) vs \(b.count)" }
    for (i, (x, y)) in zip(a, b).enumerated() where x != y {
        return "byte \(i): \(x) vs \(y)"
    }
    return nil
}
