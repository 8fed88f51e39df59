import Foundation
import Testing
@testable import Merge

/// Test support: runs a merge method on plain arrays and measures errors.
enum Harness {
    /// Runs `method` on copies of `tensors` (the method may overwrite its scratch inputs).
    static func run(_ method: any MergeMethod, name: String = "test", shape: [Int], _ tensors: [[Float]],
                    weights: [Double?]? = nil, modelParameters: [Parameters]? = nil,
                    parameters: [String: ParameterValue] = [:], baseIndex: Int? = nil) throws(MergeError) -> [Float] {
        let perModel = modelParameters ?? tensors.indices.map { index in
            guard let weight = weights?[index] else { return Parameters() }
            return Parameters(["weight": .number(weight)])
        }
        let buffers = tensors.map { tensor in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: tensor.count)
            _ = buffer.initialize(from: tensor)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var output = [Float](repeating: .nan, count: tensors.first?.count ?? 0)
        let input = MergeInput(name: name, shape: shape, tensors: buffers, modelParameters: perModel,
                               parameters: Parameters(parameters), baseIndex: baseIndex, seed: 0)
        var failure: MergeError?
        output.withUnsafeMutableBufferPointer { out in
            do throws(MergeError) { try method.merge(input, into: out) } catch { failure = error }
        }
        if let failure { throw failure }
        return output
    }

    /// `‖x − y‖ / ‖y‖` (in `Double`); 0 when both are zero.
    static func relativeError(_ x: [Float], _ y: [Float]) -> Double {
        precondition(x.count == y.count)
        var difference = 0.0, reference = 0.0
        for (a, b) in zip(x, y) {
            let d = Double(a) - Double(b)
            difference += d * d
            reference += Double(b) * Double(b)
        }
        if reference == 0 { return difference == 0 ? 0 : .infinity }
        return (difference / reference).squareRoot()
    }

    /// The error thrown by `body`, if any.
    static func error(_ body: () throws -> [Float]) -> MergeError? {
        do { _ = try body(); return nil } catch { return error as? MergeError }
    }

    /// True when `error` is `invalidInputs` whose reason contains `text`.
    static func isInvalid(_ error: MergeError?, _ text: String) -> Bool {
        if case let .invalidInputs(_, _, reason)? = error { return reason.contains(text) }
        return false
    }
}

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

    /// The layer number of `blk.N.…`, nil for non-layer tensors.
    static func layer(of name: String) -> Int? {
        let parts = name.split(separator: ".")
        guard parts.count > 2, parts[0] == "blk" else { return nil }
        return Int(parts[1])
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
            let merged = try Harness.run(method, name: name, shape: reference.shape, sources.map(\.values),
                                         modelParameters: modelParameters ?? files.map { _ in Parameters() },
                                         parameters: parameters(name), baseIndex: baseIndex)
            let error = Harness.relativeError(merged, reference.values)
            #expect(error <= 1e-5, "\(name): relative error \(error)")
            worst = max(worst, error)
        }
        return worst
    }
}
