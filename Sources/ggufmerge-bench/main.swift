import Foundation
import GGUF
import Merge
import Quant

/// ggufmerge-bench: makes synthetic llama-shaped models in a temporary folder and times, in one run,
/// merges and quantization against baselines measured in the same run: the I/O floor (reading the
/// inputs once and writing an output of the same size) and, when it is on PATH, llama-quantize.
let help = """
    USAGE: swift run -c release ggufmerge-bench [--shape 1b|7b|8b-vocab|tiny] [--threads N] [--repeat N] [--dir DIR] [--keep]
           swift run -c release ggufmerge-bench --codecs [--llama-src DIR] [--rounds N] [--types Q4_K,Q8_0,…]

    --codecs: per type, one-thread encode and decode MB/s (of F32 data) of our block codecs and of
    ggml's own C functions, compiled in the same run by `cc` from the llama.cpp sources at DIR (else
    $LLAMA_CPP_SRC, else ./llama_cpp_python-0.3.36/vendor/llama.cpp, else
    ../src/llama_cpp_python-0.3.36/vendor/llama.cpp), with the ratio and a byte comparison. N rounds
    (default 3) alternate ggml's harness and ours; each side keeps its best time per codec.

    Builds synthetic models (F16 and, by our quantizer, Q8_0 and Q4_K_M) of a llama shape
    (1b: hidden 2048, 16 layers, ffn 5632, vocab 32000; 7b: hidden 4096, 32 layers, ffn 11008) in a
    temporary folder, then runs the `ggufmerge` CLI of the same build as a child process for each task,
    printing its wall time, its peak RSS, and the ratio to the baseline of the same run. Each merge
    and its I/O floor run --repeat times (default 3), alternately; each keeps its best time.
    8b-vocab (Llama-3-8B widths and vocabulary 128256, 2 layers) instead times TIES, DARE-TIES, SLERP,
    model_stock, DELLA and NuSLERP on Q4_K_M inputs (a base and two models), with their peak RSS.

    llama-quantize: put it on PATH to time it on the same F16 file. To build it (2.5 minutes here):
      pip download --no-deps --no-binary llama-cpp-python llama-cpp-python==0.3.36 && tar xzf llama_cpp_python-0.3.36.tar.gz
      cmake -S llama_cpp_python-0.3.36/vendor/llama.cpp -B build -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF -DCMAKE_BUILD_TYPE=Release
      cmake --build build --target llama-quantize -j 2 && export PATH=$PWD/build/bin:$PATH

    """

struct Shape {
    var hidden: Int, layers: Int, ffn: Int, vocab: Int, heads: Int, kvHeads: Int

    static let shapes: [String: Shape] = [
        "tiny": Shape(hidden: 256, layers: 2, ffn: 512, vocab: 1024, heads: 4, kvHeads: 2),
        "1b": Shape(hidden: 2048, layers: 16, ffn: 5632, vocab: 32000, heads: 32, kvHeads: 4),
        "7b": Shape(hidden: 4096, layers: 32, ffn: 11008, vocab: 32000, heads: 32, kvHeads: 32),
    ]

    /// Tensors in llama.cpp's order: name and ggml shape.
    var tensors: [(String, [Int])] {
        let kv = hidden / heads * kvHeads
        var list: [(String, [Int])] = [("token_embd.weight", [hidden, vocab]), ("output_norm.weight", [hidden]),
                                       ("output.weight", [hidden, vocab])]
        for i in 0 ..< layers {
            list += [("blk.\(i).attn_norm.weight", [hidden]), ("blk.\(i).attn_q.weight", [hidden, hidden]),
                     ("blk.\(i).attn_k.weight", [hidden, kv]), ("blk.\(i).attn_v.weight", [hidden, kv]),
                     ("blk.\(i).attn_output.weight", [hidden, hidden]), ("blk.\(i).ffn_norm.weight", [hidden]),
                     ("blk.\(i).ffn_gate.weight", [hidden, ffn]), ("blk.\(i).ffn_up.weight", [hidden, ffn]),
                     ("blk.\(i).ffn_down.weight", [ffn, hidden])]
        }
        return list
    }

    func metadata(name: String) -> Metadata {
        var m = Metadata()
        m.set("general.architecture", .string("llama"))
        m.set("general.name", .string(name))
        m.set("llama.block_count", .uint32(UInt32(layers)))
        m.set("llama.context_length", .uint32(2048))
        m.set("llama.embedding_length", .uint32(UInt32(hidden)))
        m.set("llama.feed_forward_length", .uint32(UInt32(ffn)))
        m.set("llama.attention.head_count", .uint32(UInt32(heads)))
        m.set("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        m.set("llama.rope.freq_base", .float32(10000))
        m.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        m.set("general.file_type", .uint32(1))
        m.set("llama.vocab_size", .uint32(UInt32(vocab)))
        return m
    }
}

/// Writes an F16 model with deterministic pseudo-random weights (about N(0, 0.02²); norms near 1),
/// one chunk of at most 1 M weights at a time, so the bench itself stays small (see `measure`).
func makeModel(_ shape: Shape, path: String, seed: UInt64) throws {
    let tensors = shape.tensors.map { name, dims in
        TensorDescriptor(name: name, shape: dims, type: dims.count == 1 ? .f32 : .f16)
    }
    let writer = try GGUFWriter(path: path, metadata: shape.metadata(name: "synthetic-\(seed)"), tensors: tensors)
    var state = seed &* 0x9e37_79b9_7f4a_7c15 | 1
    let chunk = 1 << 20
    var floats = [Float](repeating: 0, count: chunk)
    var halves = [UInt8](repeating: 0, count: chunk * 2)
    for tensor in tensors {
        let count = tensor.shape.reduce(1, *)
        var done = 0
        while done < count {
            let n = min(chunk, count - done)
            for i in 0 ..< n {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                // Sum of four uniforms: close enough to a normal for weights.
                let u = Float(state & 0xffff) + Float((state >> 16) & 0xffff) + Float((state >> 32) & 0xffff) + Float(state >> 48)
                let centered = (u / 65536 - 2) * 0.035
                floats[i] = tensor.shape.count == 1 ? 1 + centered : centered
            }
            if tensor.type == .f32 {
                try floats.withUnsafeBytes { try writer.appendPart(UnsafeRawBufferPointer(rebasing: $0[..<(n * 4)])) }
            } else {
                try floats.withUnsafeBufferPointer { src in
                    try halves.withUnsafeMutableBytes { dst in
                        try Codecs.quantize(.f16, UnsafeBufferPointer(rebasing: src[..<n]), into: UnsafeMutableRawBufferPointer(rebasing: dst[..<(n * 2)]))
                    }
                }
                try halves.withUnsafeBytes { try writer.appendPart(UnsafeRawBufferPointer(rebasing: $0[..<(n * 2)])) }
            }
            done += n
        }
    }
    try writer.finish()
}

struct Measurement {
    var seconds: Double
    var peakRSS: Int  // bytes
}

/// Runs a command as a child process and measures its wall time and peak RSS (wait4's rusage).
/// Linux folds the parent's resident high-water mark at spawn into the child's `ru_maxrss` (exec
/// records the old address space's peak), so the bench never holds more than a few MiB of data
/// itself; `benchPeakRSS()` prints that floor beside the results.
func measure(_ arguments: [String]) throws -> Measurement {
    var pid: pid_t = 0
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let start = Date()
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    defer { posix_spawn_file_actions_destroy(&actions) }
    guard posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
        throw BenchError("cannot run \(arguments[0])")
    }
    var status: Int32 = 0
    var usage = rusage()
    wait4(pid, &status, 0, &usage)
    let seconds = Date().timeIntervalSince(start)
    guard status == 0 else { throw BenchError("\(arguments.joined(separator: " ")) failed with status \(status)") }
    return Measurement(seconds: seconds, peakRSS: usage.ru_maxrss * 1024)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The I/O floor for a task: read every input file once, then write `outputBytes` and fsync, measured
/// in-process, with the output written through the page cache and, where the file system allows it,
/// around it (direct I/O, as `ggufmerge` writes where it can). The floor is the faster of the two.
func ioFloor(inputs: [String], outputBytes: Int, dir: String) throws -> (cached: Double, direct: Double?) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 << 20, alignment: DirectIO.alignment)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 1)
    let start = Date()
    var checksum: UInt8 = 0
    for input in inputs {
        let fd = open(input, O_RDONLY)
        guard fd >= 0 else { throw BenchError("cannot open \(input)") }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n <= 0 { break }
            checksum &+= buffer[n - 1]
        }
        close(fd)
    }
    let reading = Date().timeIntervalSince(start)
    _ = checksum
    let cached = try timeWrite(outputBytes, from: buffer, to: dir + "/floor.bin", flags: 0)
    // A direct write's length is a multiple of the alignment: the output's size rounded up to a page.
    let pages = (outputBytes + DirectIO.alignment - 1) / DirectIO.alignment * DirectIO.alignment
    let direct = DirectIO.openFlag.flatMap { try? timeWrite(pages, from: buffer, to: dir + "/floor.bin", flags: $0) }
    return (reading + cached, direct.map { reading + $0 })
}

/// Seconds to write `bytes` (from `buffer`, repeated) to a new file opened with `flags`, fsync it and
/// delete it.
func timeWrite(_ bytes: Int, from buffer: UnsafeMutableRawBufferPointer, to path: String, flags: Int32) throws -> Double {
    let start = Date()
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | flags, 0o644)
    guard fd >= 0 else { throw BenchError("cannot create \(path)") }
    defer { close(fd); unlink(path) }
    var left = bytes
    while left > 0 {
        let n = write(fd, buffer.baseAddress, min(left, buffer.count))
        guard n > 0 else { throw BenchError("write to \(path) failed") }
        left -= n
    }
    fsync(fd)
    return Date().timeIntervalSince(start)
}

#if os(Linux)
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

/// This process's own peak RSS: a lower bound of every child's reported peak (see `measure`).
func benchPeakRSS() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF_WHO, &usage)
    return usage.ru_maxrss * 1024
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
}

func format(_ m: Measurement) -> String {
    String(format: "%7.2f s  peak RSS %6.0f MiB", m.seconds, Double(m.peakRSS) / 1_048_576)
}

// MARK: - Run

func runBenchmark() throws {

    let args = Array(CommandLine.arguments.dropFirst())
    if args.contains("--help") || args.contains("-h") { print(help, terminator: ""); exit(0) }
    func option(_ name: String) -> String? {
        guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
        return args[i + 1]
    }
    let shapeName = option("--shape") ?? "1b"
    guard let shape = shapeName == "8b-vocab" ? vocabShape : Shape.shapes[shapeName] else { print("unknown shape \(shapeName)"); exit(2) }
    let threads = option("--threads") ?? String(ProcessInfo.processInfo.activeProcessorCount)
    let repeats = max(option("--repeat").flatMap { Int($0) } ?? 3, 1)
    if args.contains("--codecs") {
        try runCodecs(llamaSource: option("--llama-src"), rounds: option("--rounds").flatMap { Int($0) } ?? 3,
                      only: option("--types").map { Set($0.split(separator: ",").map(String.init)) })
        return
    }
    let dir = option("--dir") ?? NSTemporaryDirectory() + "ggufmerge-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let tool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ggufmerge").path
    guard FileManager.default.isExecutableFile(atPath: tool) else { print("build the ggufmerge product first: \(tool) is missing"); exit(1) }
    defer { if !args.contains("--keep") { try? FileManager.default.removeItem(atPath: dir) } }

    if shapeName == "8b-vocab" { return try runMethodSweep(shape, tool: tool, dir: dir, threads: threads) }
    print("shape \(shapeName): hidden \(shape.hidden), \(shape.layers) layers, ffn \(shape.ffn), vocab \(shape.vocab); threads \(threads); in \(dir)")
    let f16a = dir + "/a-F16.gguf", f16b = dir + "/b-F16.gguf"
    let t0 = Date()
    try makeModel(shape, path: f16a, seed: 1)
    try makeModel(shape, path: f16b, seed: 2)
    print("made two F16 models (\(byteText(fileSize(f16a))) each) in \(String(format: "%.1f", Date().timeIntervalSince(t0))) s; the bench's own peak RSS, included in each below: \(benchPeakRSS() >> 20) MiB")

    // Quantize F16 → Q4_K_M: ours, and llama-quantize when on PATH.
    let q4a = dir + "/a-Q4_K_M.gguf", q4b = dir + "/b-Q4_K_M.gguf", q8a = dir + "/a-Q8_0.gguf", q8b = dir + "/b-Q8_0.gguf"
    let ours = try measure([tool, "quantize", f16a, q4a, "Q4_K_M", "--threads", threads, "--quiet"])
    print("quantize F16→Q4_K_M    ggufmerge       \(format(ours))")
    var llamaSeconds: Double?
    if let llama = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map({ "\($0)/llama-quantize" })
        .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
        let theirs = try measure([llama, f16a, dir + "/llama-Q4_K_M.gguf", "Q4_K_M", threads])
        llamaSeconds = theirs.seconds
        print("quantize F16→Q4_K_M    llama-quantize  \(format(theirs))")
        print(String(format: "  ratio ggufmerge / llama-quantize: %.2f×", ours.seconds / theirs.seconds))
        let same = FileManager.default.contentsEqual(atPath: q4a, andPath: dir + "/llama-Q4_K_M.gguf")
        print("  files byte-identical: \(same)")
    } else {
        print("  (llama-quantize not on PATH: see --help to build it)")
    }
    _ = try measure([tool, "quantize", f16b, q4b, "Q4_K_M", "--threads", threads, "--quiet"])
    _ = try measure([tool, "quantize", f16a, q8a, "Q8_0", "--threads", threads, "--quiet"])
    _ = try measure([tool, "quantize", f16b, q8b, "Q8_0", "--threads", threads, "--quiet"])

    let tasks: [(String, [String], String)] = [
        ("linear F16→F16", ["--method", "linear", "--param", "weight=0.5", f16a, f16b], f16a),
        ("slerp Q8_0→Q8_0", ["--method", "slerp", "--param", "t=0.5", "--base", q8a, q8a, q8b], q8a),
        ("ties Q4_K_M→Q4_K_M", ["--method", "ties", "--param", "density=0.5", "--param", "weight=0.5", "--base", q4a, q4a, q4b], q4a),
    ]
    for (label, arguments, like) in tasks {
        let out = dir + "/merged.gguf"
        let inputs = Array(Set(arguments.filter { $0.hasSuffix(".gguf") }))
        _ = try ioFloor(inputs: inputs, outputBytes: fileSize(like), dir: dir)  // warm the page cache
        do {
            // Floor and merge alternate `repeats` times; each keeps its best (the least disturbed) time.
            var cachedFloor = Double.infinity, directFloor: Double?, best: Measurement?, times: [Double] = []
            for _ in 0 ..< repeats {
                let floors = try ioFloor(inputs: inputs, outputBytes: fileSize(like), dir: dir)
                cachedFloor = min(cachedFloor, floors.cached)
                if let direct = floors.direct { directFloor = min(directFloor ?? .infinity, direct) }
                let m = try measure([tool, "merge"] + arguments + ["-o", out, "--threads", threads, "--quiet", "--force"])
                times.append(m.seconds)
                if m.seconds < best?.seconds ?? .infinity { best = m }
            }
            guard let m = best else { break }
            let floor = min(cachedFloor, directFloor ?? .infinity)
            var line = "merge \(label.padding(toLength: 20, withPad: " ", startingAt: 0)) \(format(m))  I/O floor \(String(format: "%.2f s", floor))  ratio \(String(format: "%.2f×", m.seconds / floor))"
            if let directFloor {
                let (kept, other, otherFloor) = directFloor < cachedFloor ? ("direct", "through the page cache", cachedFloor)
                                                                          : ("through the page cache", "direct", directFloor)
                line += String(format: "  (floor written %@; written %@ it is %.2f s: %.2f×)", kept, other, otherFloor, m.seconds / otherFloor)
            }
            if label.hasPrefix("ties"), let llamaSeconds {
                line += String(format: "  (%.2f× llama-quantize F16→Q4_K_M)", m.seconds / llamaSeconds)
            }
            if repeats > 1 { line += "  (runs: " + times.map { String(format: "%.2f", $0) }.joined(separator: ", ") + " s)" }
            print(line)
        } catch {
            print("merge \(label): \(error)")
        }
        try? FileManager.default.removeItem(atPath: out)
    }

}

do {
    try runBenchmark()
} catch {
    print("bench failed: \(error)")
    exit(1)
}

func byteText(_ bytes: Int) -> String { String(format: "%.2f GiB", Double(bytes) / 1_073_741_824) }
