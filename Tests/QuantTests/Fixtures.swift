import Foundation

/// Reads the files of `Fixtures/quant` (see its README.md).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/quant")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// A file of little-endian float32 values.
    static func floats(_ name: String) throws -> [Float] {
        let raw = try bytes(name)
        return stride(from: 0, to: raw.count, by: 4).map { i in
            Float(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24)
        }
    }

    static func json<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    // rows.json
    struct Rows: Decodable {
        struct Row: Decodable { let tensor: String; let row: Int; let count: Int; let offset: Int }
        struct Picked: Decodable { let row: Int; let byteOffset: Int; let byteCount: Int }
        struct TypeEntry: Decodable { let file: String; let bytes: String; let rows: [Picked]; let dequantized: String? }
        let rows: [Row]
        let types: [String: TypeEntry]
    }

    // recipes.json
    struct Recipes: Decodable {
        struct Tensor: Decodable {
            let name: String
            let shape: [Int]
            let type: String
            init(from decoder: Decoder) throws {
                var c = try decoder.unkeyedContainer()
                name = try c.decode(String.self)
                shape = try c.decode([Int].self)
                type = try c.decode(String.self)
            }
        }
        struct Input: Decodable {
            let architecture: String
            let blockCount: Int
            let headCount: Int
            let headCountKV: Int
            let expertCount: Int
            let tensors: [Tensor]
            let keys: [String]
        }
        struct File: Decodable {
            let file: String
            let input: String
            let pure: Bool
            let fileType: UInt32
            let tensors: [Tensor]
            let keys: [String]
        }
        let inputs: [String: Input]
        let files: [File]
    }
}
