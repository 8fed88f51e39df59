import Foundation
import GGUF
import Testing

/// README's exit-code table, row by row, for every command: 0 success, 1 failure while running,
/// 2 usage, config or input error — each with nothing left in the output directory but the inputs.
@Suite struct ExitCodeTests {
    static let merge = CLITests.merge
    static let lora = CLITests.root.appendingPathComponent("Fixtures/lora").path

    enum Row: String, CaseIterable { case success, failure, usage }

    /// A command line per command and row. `{out}` is the output path in a fresh directory.
    static let cases: [(command: String, row: Row, arguments: [String], message: String)] = [
        ("merge", .success, ["merge", "\(merge)/ties.yml", "-o", "{out}", "-q"], ""),
        ("merge", .failure, ["merge", "\(merge)/ties.yml", "-o", "{out}", "-q"], "write failed"),
        ("merge", .usage, ["merge", "\(merge)/ties.yml"], "missing -o"),
        ("merge", .usage, ["merge", "--method", "ties", "--base", "\(merge)/base.gguf", "missing.gguf", "-o", "{out}"], "missing.gguf: cannot open"),
        ("merge", .usage, ["merge", "\(merge)/ties.yml", "-o", "{dir}/missing/out.gguf"], "missing/out.gguf: directory"),
        ("merge", .usage, ["merge", "\(merge)/ties.yml", "-o", "/nonexistent/out.gguf", "--dry-run"], "/nonexistent/out.gguf: directory /nonexistent does not exist"),
        ("merge", .usage, ["merge", "\(merge)/ties.yml", "-o", "{dir}", "--force"], "is a directory"),
        ("lora", .success, ["lora", "\(lora)/base-f32.gguf", "\(lora)/adapter-x.gguf:0.5", "-o", "{out}", "-q"], ""),
        ("lora", .failure, ["lora", "\(lora)/base-f32.gguf", "\(lora)/adapter-x.gguf", "-o", "{out}", "-q"], "write failed"),
        ("lora", .usage, ["lora", "\(lora)/base-f32.gguf", "missing-adapter.gguf", "-o", "{out}"], "missing-adapter.gguf: cannot open"),
        ("lora", .usage, ["lora", "\(lora)/base-f32.gguf", "\(lora)/adapter-x.gguf:abc", "-o", "{out}"], "scale 'abc' is not a number"),
        ("lora", .usage, ["lora", "\(lora)/adapter-x.gguf", "\(lora)/adapter-y.gguf", "-o", "{out}"], "adapter-x.gguf is a LoRA adapter, not a model"),
        ("quantize", .success, ["quantize", "\(lora)/base-f32.gguf", "{out}", "Q8_0", "2", "-q"], ""),
        ("quantize", .failure, ["quantize", "\(lora)/base-f32.gguf", "{out}", "Q8_0", "-q"], "write failed"),
        ("quantize", .usage, ["quantize", "missing.gguf", "{out}", "Q8_0"], "missing.gguf: cannot open"),
        ("quantize", .usage, ["quantize", "\(lora)/base-f32.gguf", "{out}", "Q9_9"], "unknown or unsupported type"),
        ("quantize", .usage, ["quantize", "\(lora)/base-f32.gguf", "{dir}/no/out.gguf", "Q8_0"], "no/out.gguf: directory"),
        ("quantize", .usage, ["quantize", "\(lora)/adapter-x.gguf", "{out}", "Q8_0"], "is a LoRA adapter"),
        ("inspect", .success, ["inspect", "-q", "\(merge)/a.gguf"], ""),
        ("inspect", .usage, ["inspect", "missing.gguf"], "missing.gguf: cannot open"),
        ("inspect", .usage, ["inspect", "\(merge)/ties.yml"], "not a GGUF file"),
        ("inspect", .usage, ["inspect"], "missing <file>"),
    ]

    /// Every command has a row of each kind it can produce (`inspect` writes nothing, so it cannot
    /// fail while writing).
    @Test func everyCommandHasEveryRow() {
        for command in ["merge", "lora", "quantize"] {
            #expect(Set(Self.cases.filter { $0.command == command }.map(\.row)) == Set(Row.allCases))
        }
        #expect(Set(Self.cases.filter { $0.command == "inspect" }.map(\.row)) == [.success, .usage])
    }

    @Test(arguments: cases.indices)
    func exitCode(_ index: Int) throws {
        let (_, row, template, expected) = Self.cases[index]
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = template.map {
            $0.replacingOccurrences(of: "{out}", with: directory + "/out.gguf").replacingOccurrences(of: "{dir}", with: directory)
        }
        // A failure while running: the output may not grow past one block (SIGXFSZ ignored, so
        // write(2) fails with EFBIG), as a full disk would make it fail.
        let result = row == .failure
            ? try CLITests.run(["/bin/sh", "-c", "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"", CLITests.tool] + arguments, shell: true)
            : try CLITests.run(arguments)
        let status: Int32 = switch row { case .success: 0; case .failure: 1; case .usage: 2 }
        #expect(result.status == status, "\(arguments): \(result.stderr)")
        if row == .success {
            #expect(result.stderr.isEmpty, "\(result.stderr)")
        } else {
            #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(expected), "\(result.stderr)")
            // One line of error; misuse of the command line adds the usage lines after it.
            #expect(result.stderr.split(separator: "\n").dropFirst().allSatisfy { $0.hasPrefix("Usage:") || $0.hasPrefix(" ") },
                    "\(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [], "nothing left behind")
        }
    }
}
