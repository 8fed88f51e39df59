import Foundation
import GGUF
import Merge
import Testing

/// `extract-lora` against llama-export-lora's output (Fixtures/lora) and against the Eckart–Young
/// optimum of a matrix whose singular values are known by construction.
@Suite struct ExtractLoRATests {
    static let lora = Fixture.directory.deletingLastPathComponent().appendingPathComponent("lora").path

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("extract-\(UUID().uuidString)-\(name)").path
    }

    /// expected-apply-x.gguf is base-f32.gguf plus adapter-x (rank 4): extracting at rank 4 and applying
    /// the result gives the fine-tune back to float rounding.
    @Test func recoversAnAdapterAtItsRank() throws {
        let output = Self.temporaryPath("x.gguf")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let base = try GGUFModel(path: Self.lora + "/base-f32.gguf")
        let finetune = try GGUFModel(path: Self.lora + "/expected-apply-x.gguf")
        let reports = try LoRAExtraction.run(base: base, finetune: finetune, to: output, options: .init(rank: 4, seed: 3))
        #expect(reports.first { $0.name == "blk.0.attn_norm.weight" }?.outcome == .unchanged)

        let adapter = try LoRAAdapter(path: output)
        try adapter.validate(against: base)
        #expect(adapter.file.metadata["general.type"]?.string == "adapter")
        #expect(adapter.file.metadata["adapter.type"]?.string == "lora")
        #expect(Set(adapter.pairs.keys) == ["blk.0.attn_q.weight", "blk.0.attn_v.weight", "blk.0.ffn_down.weight",
                                            "blk.1.attn_q.weight", "blk.1.attn_v.weight", "blk.1.ffn_down.weight"])
        let baseValues = try Fixture.tensors(atPath: Self.lora + "/base-f32.gguf")
        let expected = try Fixture.tensors(atPath: Self.lora + "/expected-apply-x.gguf")
        for (name, pair) in adapter.pairs {
            #expect(pair.a.shape[1] == 4 && pair.b.shape[0] == 4)
            var applied = baseValues[name]!.values
            let loraDelta = try #require(try adapter.delta(for: name))
            let rows = applied.count / baseValues[name]!.shape[0]
            try applied.withUnsafeMutableBufferPointer { (buffer) throws(MergeError) in try loraDelta.add(to: buffer, rows: 0 ..< rows) }
            let delta = zip(expected[name]!.values, baseValues[name]!.values).map { $0 - $1 }
            let error = zip(applied, expected[name]!.values).map { $0 - $1 }
            let relative = SyntheticModel.norm(error) / SyntheticModel.norm(delta)
            // The delta itself is a difference of float files: ~1e-7 of the weights, ~1e-5 of the delta.
            #expect(relative < 1e-4, "\(name): relative error \(relative)")
        }
    }

    /// `--energy`: each weight gets the smallest rank keeping that fraction of its delta's energy, and
    /// the adapter still applies with llama.cpp's alpha / rank (B is scaled for the smaller rank).
    @Test func energyChoosesTheRankPerTensor() throws {
        let output = Self.temporaryPath("energy.gguf")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let base = try GGUFModel(path: Self.lora + "/base-f32.gguf")
        let reports = try LoRAExtraction.run(base: base, finetune: GGUFModel(path: Self.lora + "/expected-apply-x.gguf"),
                                             to: output, options: .init(rank: 8, energy: 0.9))
        let ranks = reports.compactMap { report -> Int? in
            if case let .extracted(rank, error) = report.outcome { #expect(error <= 0.3163); return rank }
            return nil
        }
        #expect(ranks.count == 6 && ranks.allSatisfy { (1...4).contains($0) }, "\(ranks)")
        let adapter = try LoRAAdapter(path: output)
        let baseValues = try Fixture.tensors(atPath: Self.lora + "/base-f32.gguf")
        let expected = try Fixture.tensors(atPath: Self.lora + "/expected-apply-x.gguf")
        for (name, _) in adapter.pairs {
            var applied = baseValues[name]!.values
            let loraDelta = try #require(try adapter.delta(for: name))
            let rows = applied.count / baseValues[name]!.shape[0]
            try applied.withUnsafeMutableBufferPointer { (buffer) throws(MergeError) in try loraDelta.add(to: buffer, rows: 0 ..< rows) }
            let delta = zip(expected[name]!.values, baseValues[name]!.values).map { $0 - $1 }
            let error = zip(applied, expected[name]!.values).map { $0 - $1 }
            // Kept ≥ 90 % of the energy: the error is at most √0.1 of the delta.
            #expect(SyntheticModel.norm(error) <= 0.3163 * SyntheticModel.norm(delta), "\(name)")
        }
    }

    /// A full-rank 96×80 matrix U·diag(σ)·Vᵀ with σᵢ = 1/(1 + i): the best rank-8 error is
    /// √(Σ_{i≥8} σᵢ²) (Eckart–Young); the randomized SVD must come within 1 % of it.
    @Test func fullRankErrorIsTheEckartYoungOptimum() throws {
        let (rows, columns, rank) = (96, 80, 8)
        let sigma = (0..<columns).map { 1 / Float(1 + $0) }
        let u = Self.orthonormal(columns, length: rows, seed: 1), v = Self.orthonormal(columns, length: columns, seed: 2)
        var matrix = [Float](repeating: 0, count: rows * columns)
        for r in 0..<columns {
            for i in 0..<rows { for j in 0..<columns { matrix[i * columns + j] += sigma[r] * u[r][i] * v[r][j] } }
        }
        let svd = matrix.withUnsafeBufferPointer {
            RandomizedSVD($0, rows: rows, columns: columns, rank: rank, random: RandomStream(seed: 5, stream: 0))
        }
        var residual = 0.0
        for i in 0..<rows {
            for j in 0..<columns {
                var approximation = 0.0
                for r in 0..<rank { approximation += svd.singularValues[r] * Double(svd.u[r][i]) * Double(svd.v[r][j]) }
                residual += (Double(matrix[i * columns + j]) - approximation) * (Double(matrix[i * columns + j]) - approximation)
            }
        }
        let optimum = sigma[rank...].reduce(0.0) { $0 + Double($1) * Double($1) }
        let ratio = (residual / optimum).squareRoot()
        #expect(ratio >= 0.999 && ratio < 1.01, "error \(residual.squareRoot()) vs optimum \(optimum.squareRoot())")
        for r in 0..<rank { #expect(abs(svd.singularValues[r] - Double(sigma[r])) < 0.01 * Double(sigma[r])) }
    }

    /// The same seed gives the same adapter, byte for byte, whatever the thread count.
    @Test func deterministicForASeed() throws {
        let one = Self.temporaryPath("one.gguf"), two = Self.temporaryPath("two.gguf")
        defer { for path in [one, two] { try? FileManager.default.removeItem(atPath: path) } }
        let base = try GGUFModel(path: Self.lora + "/base-f32.gguf")
        let finetune = try GGUFModel(path: Self.lora + "/expected-apply-xy.gguf")
        try LoRAExtraction.run(base: base, finetune: finetune, to: one, options: .init(rank: 3, seed: 9, threads: 1))
        try LoRAExtraction.run(base: base, finetune: finetune, to: two, options: .init(rank: 3, seed: 9, threads: 2))
        #expect(FileManager.default.contents(atPath: one) == FileManager.default.contents(atPath: two))
    }

    /// `count` orthonormal vectors of `length` (Gram–Schmidt of Gaussian vectors).
    static func orthonormal(_ count: Int, length: Int, seed: UInt64) -> [[Float]] {
        var basis: [[Double]] = []
        for c in 0..<count {
            var w = SyntheticModel.gaussian(length, RandomStream(seed: seed, stream: c)).map(Double.init)
            for _ in 0..<2 {
                for q in basis {
                    let dot = zip(w, q).reduce(0) { $0 + $1.0 * $1.1 }
                    for k in w.indices { w[k] -= dot * q[k] }
                }
            }
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            basis.append(w.map { $0 / norm })
        }
        return basis.map { $0.map(Float.init) }
    }
}
