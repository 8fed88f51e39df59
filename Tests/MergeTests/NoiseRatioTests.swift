import Foundation
import GGUF
import Merge
import Quant
import Testing

/// The task-vector noise ratio `check` estimates from stored blocks alone, against the true ratio
/// computed from the float originals: ‖τ‖² over the two files' actual rounding error energy. Within
/// 2× wherever the task vector is at least as large as the noise; below that, reported as noise.
@Suite struct NoiseRatioTests {
    static let base = SyntheticModel.base()
    static let fineTunes: [(label: String, weights: [String: [Float]])] = [
        ("small", SyntheticModel.fineTune(base, relative: 0.15, seed: 11)),
        ("large", SyntheticModel.fineTune(base, relative: 0.5, seed: 12)),
    ]

    @Test(arguments: [FileType.q8_0, .q6_K, .q5_K_M, .q4_K_M, .q3_K_M, .q2_K])
    func estimateIsWithinTwiceTheTrueRatio(_ fileType: FileType) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("noise-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let decodedBase = try SyntheticModel.write(Self.base, as: fileType, to: directory + "/base.gguf")
        for (label, weights) in Self.fineTunes {
            let decoded = try SyntheticModel.write(weights, as: fileType, to: directory + "/\(label).gguf")
            var signal = 0.0, noise = 0.0
            for (name, shape) in SyntheticModel.shapes where shape.count == 2 {
                let x = weights[name]!, b = Self.base[name]!, xq = decoded[name]!, bq = decodedBase[name]!
                for k in x.indices {
                    let tau = Double(x[k]) - Double(b[k])
                    let errorX = Double(xq[k]) - Double(x[k])
                    let errorB = Double(bq[k]) - Double(b[k])
                    signal += tau * tau
                    noise += errorX * errorX + errorB * errorB
                }
            }
            let trueRatio = signal / noise
            let report = try ModelCheck.run([GGUFModel(path: directory + "/base.gguf"), GGUFModel(path: directory + "/\(label).gguf")], baseIndex: 0)
            let estimate = try #require(report.taskVectorNoiseRatio(1))
            print("noise ratio \(fileType.name) \(label): true \(trueRatio), estimated \(estimate), ×\(estimate / trueRatio)")
            if trueRatio >= 1 {
                #expect(estimate / trueRatio > 0.5 && estimate / trueRatio < 2, "\(fileType.name) \(label): true \(trueRatio), estimated \(estimate)")
            } else {
                // A task vector below the noise: the two files round alike, so their difference no
                // longer shows it; the estimate must still say "mostly noise" (and merge warn).
                #expect(estimate < 2, "\(fileType.name) \(label): true \(trueRatio), estimated \(estimate)")
            }
        }
    }
}
