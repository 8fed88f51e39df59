@testable import Merge
import Testing

/// The output's name, size label and stored config.
@Suite struct ProvenanceTests {
    /// Expected labels from gguf-py 0.19.0's `size_label(n, n, 0, 0)` (and, for the mixture,
    /// `size_label(46702792704, 1604554752, 5637144576, 8)`).
    @Test(arguments: [(999, "1.0K"), (177_152, "177K"), (999_999, "1000K"), (99_500, "100K"), (1_000_001, "1.0M"),
                      (9_950_000, "10M"), (1_235_814_400, "1.2B"), (8_030_261_248, "8.0B"), (70_553_706_496, "71B"),
                      (1_500_000_000_000, "1.5T")])
    func sizeLabelMatchesGGUFPy(_ count: Int, _ label: String) {
        #expect(Provenance.sizeLabel([("w", [count])]) == label)
    }

    @Test func mixtureOfExpertsLabel() {
        // 8 experts of 5637144576 / 8 parameters per expert tensor group, plus shared ones.
        let tensors: [(name: String, shape: [Int])] = [("shared", [1_604_554_752]), ("blk.0.ffn_up_exps.weight", [5_637_144_576, 1, 8])]
        #expect(Provenance.sizeLabel(tensors) == "8x7.2B")
    }

    @Test func configKeepsNoLocalDirectories() throws {
        let text = "models:\n  - model: /home/me/models/a.gguf\n  - model: b.gguf+/home/me/lora/x.gguf\nmerge_method: linear\n"
        let config = try MergeConfig.parse(text, file: "c.yml", directory: "/work")
        let stored = Provenance.configWithoutLocalPaths(text, references: config.referencedModels)
        #expect(stored == "models:\n  - model: a.gguf\n  - model: b.gguf+x.gguf\nmerge_method: linear\n")
    }

    @Test func derivedNameListsTheInputsThenTheMethod() {
        #expect(Provenance.derivedName(inputNames: ["A", "Base", "B"], baseIndex: 1, method: "ties") == "A + B (ties)")
        #expect(Provenance.derivedName(inputNames: ["A", "B"], baseIndex: nil, method: "slerp") == "A + B (slerp)")
    }
}
