import Foundation
import GGUF
import Merge
import Testing

/// Multi-document configs (mergekit-mega): documents run in order, a `name:` is a model for later ones.
@Suite struct MultiDocumentTests {
    static let text = """
    name: ab
    out_path: ./ignored
    merge_method: linear
    out_dtype: float32
    models:
      - model: a.gguf
        parameters: {weight: 0.5}
      - model: b.gguf
        parameters: {weight: 0.5}
    ---
    merge_method: linear
    models:
      - model: ab
        parameters: {weight: 0.5}
      - model: c.gguf
        parameters: {weight: 0.5}
    """

    /// Writes `text` to a temporary file, the fixtures' model paths made absolute.
    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("multi-\(UUID().uuidString).yml").path
        var absolute = text
        for model in ["a.gguf", "b.gguf", "c.gguf"] { absolute = absolute.replacingOccurrences(of: " \(model)", with: " \(Fixture.path(model))") }
        try absolute.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func laterDocumentsUseEarlierNames() throws {
        let path = try Self.write(Self.text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let merge = try MultiDocumentMerge.load(path: path)
        #expect(merge.documents.count == 2 && merge.documents[0].name == "ab" && merge.documents[0].outPath == "./ignored")

        try Fixture.withTemporaryFolder("multi") { folder in
            try MergeEngine(threads: 2).run(try MergePlan.build(merge.resolved(0, intermediates: folder)),
                                            to: MultiDocumentMerge.intermediatePath("ab", in: folder))
            let last = merge.resolved(1, intermediates: folder)
            guard case let .models(models) = last.inputs else { Issue.record("expected models"); return }
            #expect(models[0].model.path == folder + "/ab.gguf" && models[0].model.text == "ab")
            let output = folder + "/out.gguf"
            try MergeEngine(threads: 2).run(try MergePlan.build(last), to: output)

            // 0.5·(0.5·a + 0.5·b) + 0.5·c, with the intermediate in F32.
            let merged = try Fixture.tensors(atPath: output)
            let a = try Fixture.f32Tensors("a.gguf"), b = try Fixture.f32Tensors("b.gguf"), c = try Fixture.f32Tensors("c.gguf")
            #expect(Set(merged.keys) == Set(a.keys))
            for (name, tensor) in merged {
                let (x, y, z) = (a[name]!.values, b[name]!.values, c[name]!.values)
                var expected = [Float](repeating: 0, count: x.count)
                for i in x.indices {
                    let ab: Float = 0.5 * x[i] + 0.5 * y[i]
                    expected[i] = 0.5 * ab + 0.5 * z[i]
                }
                #expect(MergeHarness.relativeError(tensor.values, expected) <= 1e-6, "\(name)")
            }
        }
    }

    @Test func unnamedEarlierDocumentIsRefused() throws {
        let path = try Self.write(Self.text.replacingOccurrences(of: "name: ab\n", with: ""))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ConfigError.invalid(file: path, at: Mark(line: 2, column: 15), message:
            "document 1 of 2 has no 'name': only the last document's result is the output, earlier ones must be named to be used")) {
            try MultiDocumentMerge.load(path: path)
        }
    }

    @Test func singleDocumentStaysOne() throws {
        let merge = try MultiDocumentMerge.load(path: Fixture.path("linear.yml"))
        #expect(merge.documents.count == 1 && merge.documents[0].mergeMethod == "linear")
    }
}
