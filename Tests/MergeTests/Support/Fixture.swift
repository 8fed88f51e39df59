import Foundation

/// Test support: the merge fixtures (mergekit's reference merges, trimmed; see Fixtures/merge/README.md).
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/merge")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The F32 tensors of a fixture file, by name, with their ggml shapes.
    ///
    /// A deliberately minimal reader for F32-only fixture files (to be replaced by `GGUFFile`).
    static func f32Tensors(_ file: String) throws -> [String: (shape: [Int], values: [Float])] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(file)))
        var at = 0
        func u32() -> UInt32 { defer { at += 4 }; return data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) } }
        func u64() -> UInt64 { defer { at += 8 }; return data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) } }
        func string() -> String { let n = Int(u64()); defer { at += n }; return String(decoding: data[at ..< at + n], as: UTF8.self) }
        func skipValue(_ type: UInt32) {
            switch type {
            case 0, 1, 7: at += 1
            case 2, 3: at += 2
            case 4, 5, 6: at += 4
            case 10, 11, 12: at += 8
            case 8: _ = string()
            case 9: let sub = u32(); let n = u64(); for _ in 0 ..< n { skipValue(sub) }
            default: fatalError("fixture \(file): bad metadata type \(type)")
            }
        }
        precondition(u32() == 0x4655_4747, "fixture \(file) is not GGUF")
        _ = u32()
        let tensorCount = Int(u64()), keyCount = Int(u64())
        for _ in 0 ..< keyCount { _ = string(); skipValue(u32()) }
        var infos: [(String, [Int], Int)] = []
        for _ in 0 ..< tensorCount {
            let name = string()
            let dims = (0 ..< Int(u32())).map { _ in Int(u64()) }
            precondition(u32() == 0, "fixture \(file): \(name) is not F32")
            infos.append((name, dims, Int(u64())))
        }
        let start = (at + 31) / 32 * 32
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for (name, dims, offset) in infos {
            let count = dims.reduce(1, *)
            let values = data.withUnsafeBytes { raw in
                (0 ..< count).map { raw.loadUnaligned(fromByteOffset: start + offset + 4 * $0, as: Float.self) }
            }
            tensors[name] = (dims, values)
        }
        return tensors
    }
}
