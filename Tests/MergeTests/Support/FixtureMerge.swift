import Testing
import Merge

/// A mergekit reference merge from Fixtures/merge: the inputs and mergekit's output.
struct FixtureMerge {
    let inputs: [String: [String: (shape: [Int], values: [Float])]]
    let expected: [String: (shape: [Int], values: [Float])]

    init(_ config: String, inputs files: [String]) throws {
        var inputs: [String: [String: (shape: [Int], values: [Float])]] = [:]
        for file in files { inputs[file] = try Fixture.f32Tensors("\(file).gguf") }
        self.inputs = inputs
        expected = try Fixture.f32Tensors("expected-\(config).gguf")
    }

    /// Merges every expected tensor from the same tensor of `files` (in that order) and returns the
    /// largest relative L2 error against mergekit's output.
    func maxError(_ method: any MergeMethod, files: [String], baseIndex: Int? = nil,
                  modelParameters: [Parameters]? = nil,
                  parameters: (String) -> [String: ParameterValue] = { _ in [:] }) throws -> Double {
        var worst = 0.0
        #expect(expected.count == 3 * 3 + 1)
        for (name, reference) in expected.sorted(by: { $0.key < $1.key }) {
            let sources = try files.map { file in try #require(inputs[file]?[name], "\(file) lacks \(name)") }
            #expect(sources.allSatisfy { $0.shape == reference.shape })
            let merged = try MergeHarness.run(method, name: name, shape: reference.shape, sources.map(\.values),
                                         modelParameters: modelParameters ?? files.map { _ in Parameters() },
                                         parameters: parameters(name), baseIndex: baseIndex)
            let error = MergeHarness.relativeError(merged, reference.values)
            #expect(error <= 1e-5, "\(name): relative error \(error)")
            worst = max(worst, error)
        }
        return worst
    }
}
