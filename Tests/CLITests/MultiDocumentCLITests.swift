import Foundation
import GGUF
import Testing

/// `merge` of a multi-document config, and the quick form of the RAM methods.
extension CLITests {
    static let twoDocuments = """
    name: ab
    out_path: ./somewhere
    merge_method: linear
    models:
      - model: MERGE/a.gguf
        parameters: {weight: 0.5}
      - model: MERGE/b.gguf
        parameters: {weight: 0.5}
    ---
    merge_method: slerp
    base_model: ab
    models:
      - model: ab
      - model: MERGE/c.gguf
    parameters: {t: 0.3}
    """

    @Test func multiDocumentConfigWritesTheLastDocument() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try Self.config(Self.twoDocuments.replacingOccurrences(of: "MERGE", with: Self.merge), in: directory)
        let result = try Self.run(["merge", config, "-o", directory + "/out.gguf"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("note: out_path './somewhere' is ignored"))
        let model = try GGUFModel(path: directory + "/out.gguf")
        #expect(model.tensors.count == (try GGUFModel(path: Self.merge + "/a.gguf")).tensors.count)
        // Only the output is left; the intermediate went to a temporary folder, now removed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["config.yml", "out.gguf"])
        #expect(!result.stderr.contains("intermediates kept"))

        let kept = try Self.run(["merge", config, "-o", directory + "/kept.gguf", "--keep-intermediates"])
        #expect(kept.status == 0, "\(kept.stderr)")
        let line = try #require(kept.stderr.split(separator: "\n").first { $0.hasPrefix("note: intermediates kept in ") })
        let folder = String(line.dropFirst("note: intermediates kept in ".count))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(FileManager.default.fileExists(atPath: folder + "/ab.gguf"))
    }

    @Test func quickFormRunsRAM() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.run(["merge", "--method", "ram", "--param", "epsilon=0.001", "--base", Self.merge + "/base.gguf",
                                   Self.merge + "/a.gguf", Self.merge + "/b.gguf", "-o", directory + "/ram.gguf", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try GGUFModel(path: directory + "/ram.gguf").metadata["general.base_model.count"]?.int == 3)
    }
}
