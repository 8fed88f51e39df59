import Foundation
@testable import GGUF

/// Paths of the committed fixtures (`Fixtures/gguf`, see its README.md).
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/gguf")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The llama.cpp-written (or gguf-py-written) files every round-trip test runs over.
    static let roundTrip = ["ggml-vocab-bert-bge.gguf", "ggml-vocab-llama-spm.gguf", "adapter-x.gguf",
                            "base-Q8_0.gguf", "all-types.gguf"]
}

/// A fresh directory under the system's temporary directory, deleted by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(in parent: String = FileManager.default.temporaryDirectory.path) {
        path = parent + "/ggufmerge-tests-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ bytes: [UInt8], to name: String) -> String {
        let p = file(name)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    /// File names in the directory, sorted (hidden ones included).
    func contents() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func readBytes(_ path: String) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: path) ?? Data())
}

/// Opens `bytes` written to a temporary file; returns the error, or nil if it opened.
func openError(_ bytes: [UInt8]) -> GGUFError? {
    let dir = TemporaryDirectory()
    defer { dir.remove() }
    do {
        _ = try GGUFFile(path: dir.write(bytes, to: "t.gguf"))
        return nil
    } catch {
        return error
    }
}

/// Copies every tensor of `file` through a writer to `path`.
@discardableResult
func rewrite(_ file: GGUFFile, to path: String, metadata: Metadata? = nil, split: SplitPolicy? = nil) throws(GGUFError) -> GGUFWriter {
    let writer = try GGUFWriter(path: path, metadata: metadata ?? file.metadata, tensors: file.tensors.map(\.descriptor),
                                alignment: file.alignment, version: file.version, split: split, protecting: [file.path])
    for t in file.tensors { try file.withBytes(of: t) { bytes throws(GGUFError) in try writer.append(bytes) } }
    try writer.finish()
    return writer
}

/// Whether two files have the same bytes (kept out of `#expect` so a failure does not print them).
func sameBytes(_ a: String, _ b: String) -> Bool {
    FileManager.default.contentsEqual(atPath: a, andPath: b)
}
