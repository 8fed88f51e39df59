import Foundation

/// The `8b-vocab` shape: Llama-3-8B's widths (hidden 4096, ffn 14336, 32/8 heads) and vocabulary
/// (128256), with 2 blocks, so that the 128256 × 4096 embedding and output dominate.
let vocabShape = Shape(hidden: 4096, layers: 2, ffn: 14336, vocab: 128256, heads: 32, kvHeads: 8)

/// Peak RSS and time of the methods that take whole-tensor statistics, on Q4_K_M inputs (a base and
/// two models), each merge run as a child process.
func runMethodSweep(_ shape: Shape, tool: String, dir: String, threads: String) throws {
    var models: [String] = []
    for (name, seed) in [("base", UInt64(3)), ("a", 1), ("b", 2)] {
        let f16 = dir + "/\(name)-F16.gguf", q4 = dir + "/\(name)-Q4_K_M.gguf"
        let start = Date()
        try makeModel(shape, path: f16, seed: seed)
        _ = try measure([tool, "quantize", f16, q4, "Q4_K_M", "--threads", threads, "--quiet"])
        try FileManager.default.removeItem(atPath: f16)
        print("made \(name) (Q4_K_M, \(byteText(fileSize(q4)))) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        models.append(q4)
    }
    let (base, a, b) = (models[0], models[1], models[2])
    let tasks: [(String, [String])] = [
        ("ties", ["--method", "ties", "--param", "density=0.5", "--param", "weight=0.5", "--base", base, a, b]),
        ("dare_ties", ["--method", "dare_ties", "--param", "density=0.5", "--param", "weight=0.5", "--base", base, a, b]),
        ("slerp", ["--method", "slerp", "--param", "t=0.5", "--base", base, a]),
        ("model_stock", ["--method", "model_stock", "--base", base, a, b]),
        ("della", ["--method", "della", "--param", "density=0.5", "--param", "weight=0.5", "--base", base, a, b]),
        ("nuslerp", ["--method", "nuslerp", "--param", "weight=0.5", "--base", base, a, b]),
    ]
    print("method        Q4_K_M → Q4_K_M (base + two; slerp: base + one); the bench's own peak RSS, included in each: \(benchPeakRSS() >> 20) MiB")
    for (label, arguments) in tasks {
        let out = dir + "/merged.gguf"
        do {
            let m = try measure([tool, "merge"] + arguments + ["-o", out, "--threads", threads, "--quiet", "--force"])
            print("merge \(label.padding(toLength: 12, withPad: " ", startingAt: 0)) \(format(m))")
        } catch {
            print("merge \(label): \(error)")
        }
        try? FileManager.default.removeItem(atPath: out)
    }
}
