import Foundation
import GGUF
import Quant

// `ggufmerge-bench --codecs`: per type, single-thread encode and decode throughput of our block codecs
// and of ggml's own C functions on the same floats, with the ratio ours/ggml and whether both wrote the
// same bytes.

/// Where the llama.cpp source tree is looked for when neither `--llama-src` nor `LLAMA_CPP_SRC` names
/// it: where `--help`'s recipe unpacks it, then this project's development layout.
let defaultLlamaSources = ["llama_cpp_python-0.3.36/vendor/llama.cpp", "../src/llama_cpp_python-0.3.36/vendor/llama.cpp"]

/// Runs the codec benchmark: `count` pseudo-random floats in rows of `rowLength`, each codec timed in
/// thread CPU time, the best of at least two runs. `rounds` rounds alternate ggml's whole harness and
/// ours, and each side keeps its best time per codec: a slow spell of this shared machine then
/// cannot land on one side only.
func runCodecs(llamaSource: String?, rounds: Int, only: Set<String>?) throws {
    let count = 1 << 21, rowLength = 4096, minimumSeconds = 0.2
    var floats = [Float](repeating: 0, count: count)
    var state: UInt64 = 0x9e37_79b9_7f4a_7c15
    for i in 0 ..< count {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        floats[i] = (Float(state & 0xffff) / 65536 - 0.5) * 0.05
    }
    let dir = NSTemporaryDirectory() + "ggufmerge-codecs-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }

    let ggml = GGMLHarness.build(llamaSource: llamaSource, floats: floats, dir: dir)
    // The types llama-quantize writes only with an importance matrix (but for token_embd and output)
    // get a uniform one, on both sides.
    let uniform = [Float](repeating: 1, count: rowLength)
    let weighted: Set<GGMLType> = [.iq1_S, .iq1_M, .iq2_XXS, .iq2_XS, .iq2_S, .iq3_XXS]
    let types = GGMLType.allCases.filter { Codecs.canQuantize($0) && $0 != .f32 && rowLength % $0.blockSize == 0 }
        .filter { only?.contains($0.name) ?? true }
    var theirs: [String: (encode: Double, decode: Double?)] = [:]
    var ours: [GGMLType: (encode: Double, decode: Double)] = [:]
    var oursQ8SIMD = Double.infinity
    var encodings: [GGMLType: [UInt8]] = [:]
    for round in 1 ... max(1, rounds) {
        print("round \(round) of \(max(1, rounds))…")
        if case let .success(harness) = ggml, let times = harness.run(rowLength: rowLength, minimumSeconds: minimumSeconds, only: only) {
            theirs.merge(times) { old, new in (min(old.encode, new.encode), new.decode.map { min(old.decode ?? $0, $0) }) }
        }
        for type in types {
            var encoded = [UInt8](repeating: 0, count: type.byteCount(elements: count)!)
            var row = [Float](repeating: 0, count: rowLength)
            let encode = try floats.withUnsafeBufferPointer { src in
                try encoded.withUnsafeMutableBytes { dst in
                    try uniform.withUnsafeBufferPointer { ones in
                        let importance = weighted.contains(type) ? ones : nil
                        return try bestSeconds(minimumSeconds) {
                            try Codecs.quantize(type, src, into: dst, rowLength: rowLength, importance: importance)
                        }
                    }
                }
            }
            // Row by row into one reused row (as the C harness does): a consumer of decoded rows, and
            // a time that measures the decoder rather than where the kernel placed 8 MiB of pages.
            let rowBytes = type.byteCount(elements: rowLength)!
            let decode = try encoded.withUnsafeBytes { src in
                try row.withUnsafeMutableBufferPointer { row in
                    try bestSeconds(minimumSeconds) {
                        for start in stride(from: 0, to: src.count, by: rowBytes) {
                            try Codecs.dequantize(type, UnsafeRawBufferPointer(rebasing: src[start ..< start + rowBytes]), into: row)
                        }
                    }
                }
            }
            let best = ours[type] ?? (encode, decode)
            ours[type] = (min(best.encode, encode), min(best.decode, decode))
            encodings[type] = encoded
        }
        if theirs["Q8_0-cpu"] != nil {
            oursQ8SIMD = min(oursQ8SIMD, try floats.withUnsafeBufferPointer { src in
                var encoded = [UInt8](repeating: 0, count: GGMLType.q8_0.byteCount(elements: count)!)
                return try encoded.withUnsafeMutableBytes { dst in
                    try bestSeconds(minimumSeconds) { try Codecs.quantize(.q8_0, src, into: dst) }
                }
            })
        }
    }

    print("codecs, one thread, MB/s of F32 data (\((count * 4) >> 20) MiB, thread CPU time, best of \(max(1, rounds)) alternating rounds of ≥ 2 runs;"
          + " decode row by row into one reused \(rowLength)-float row)")
    switch ggml {
    case let .success(harness): print("ggml: \(harness.description)")
    case let .failure(reason): print("ggml: not available (\(reason.description)); ours only")
    }
    print("type       encode: ours     ggml  ours/ggml   decode: ours     ggml  ours/ggml   bytes")
    for type in types {
        guard let times = ours[type] else { continue }
        let reference = theirs[type.name]
        let same = reference.map { _ in
            FileManager.default.contents(atPath: "\(dir)/\(type.name).bin").map { Array($0) == encodings[type] } ?? false
        }
        print(type.name.padding(toLength: 10, withPad: " ", startingAt: 0)
              + rateColumns(bytes: count * 4, ours: times.encode, theirs: reference?.encode)
              + rateColumns(bytes: count * 4, ours: times.decode, theirs: reference?.decode)
              + "   " + (same.map { $0 ? "identical" : "DIFFER" } ?? "—"))
    }
    if let simd = theirs["Q8_0-cpu"] {
        print("Q8_0 vs ggml-cpu's SIMD quantize_row_q8_0 (rounds ties to even, not as the reference):"
              + rateColumns(bytes: count * 4, ours: oursQ8SIMD, theirs: simd.encode))
    }
}

/// Columns "ours ggml ours/ggml" for one direction, in MB/s of F32 data.
func rateColumns(bytes: Int, ours: Double, theirs: Double?) -> String {
    let rate = Double(bytes) / 1e6 / ours
    guard let theirs else { return String(format: "%13.0f", rate) + "        —          —" }
    return String(format: "%13.0f %8.0f %9.2f×", rate, Double(bytes) / 1e6 / theirs, theirs / ours)
}

/// The least thread CPU time of `body` over at least two runs and `minimumTotal` seconds.
func bestSeconds(_ minimumTotal: Double, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity, total = 0.0, runs = 0
    while runs < 2 || total < minimumTotal {
        let start = threadCPUSeconds()
        try body()
        let seconds = threadCPUSeconds() - start
        best = min(best, seconds)
        total += seconds
        runs += 1
    }
    return best
}

func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// ggml's codecs timed by a small C program compiled in this run from a llama.cpp source tree: the
/// functions llama-quantize calls (`quantize_<type>` without an importance matrix, which runs
/// `quantize_row_<type>_ref` or the IQ4 search with `ntry = 7`; `dequantize_row_<type>`; F16/BF16 as
/// `ggml.c`'s row loops), built as ggml-base is (`cc -O3`, no `-march`), and ggml-cpu's SIMD
/// `quantize_row_q8_0` built as ggml-cpu is (`-march=native`) when its source compiles here.
struct GGMLHarness: CustomStringConvertible {
    var source: String
    var simd: Bool

    var description: String {
        "\(source) (quantize_<type> as llama-quantize calls it, dequantize_row_<type>; cc -O3"
            + (simd ? "; ggml-cpu quantize_row_q8_0 with -march=native)" : "; ggml-cpu's SIMD quantize_row_q8_0 did not compile)")
    }

    struct Unavailable: Error, CustomStringConvertible { var description: String }

    /// The compiled harness, the file of floats it reads and their count.
    var binary = "", input = "", dir = ""
    var count = 0

    /// Compiles the harness and writes `floats` for it to `dir` (where each run leaves one
    /// `<type>.bin` encoding per codec).
    static func build(llamaSource: String?, floats: [Float], dir: String) -> Result<GGMLHarness, Unavailable> {
        let candidates = llamaSource.map { [$0] } ?? ProcessInfo.processInfo.environment["LLAMA_CPP_SRC"].map { [$0] }
            ?? defaultLlamaSources
        guard let root = candidates.first(where: { FileManager.default.fileExists(atPath: "\($0)/ggml/src/ggml-quants.c") }) else {
            return .failure(Unavailable(description: "no llama.cpp sources at \(candidates.joined(separator: " or ")): pass --llama-src DIR or set LLAMA_CPP_SRC"))
        }
        let ggml = "\(root)/ggml", cc = ProcessInfo.processInfo.environment["CC"] ?? "cc"
        let harness = "\(dir)/ggml-codecs.c", binary = "\(dir)/ggml-codecs", simdObject = "\(dir)/ggml-cpu-quants.o"
        let includes = ["-I", "\(ggml)/include", "-I", "\(ggml)/src", "-I", "\(ggml)/src/ggml-cpu"]
        do {
            try harnessSource.write(toFile: harness, atomically: true, encoding: .utf8)
        } catch {
            return .failure(Unavailable(description: "cannot write \(harness)"))
        }
        print("compiling ggml's codecs from \(root) with \(cc)…")
        #if arch(x86_64)
        let arch: String? = "x86"
        #elseif arch(arm64)
        let arch: String? = "arm"
        #else
        let arch: String? = nil
        #endif
        let simd = arch.map { run(cc, ["-O3", "-march=native", "-DNDEBUG", "-std=gnu11", "-c"] + includes
                                      + ["\(ggml)/src/ggml-cpu/arch/\($0)/quants.c", "-o", simdObject]) != nil } ?? false
        guard run(cc, ["-O3", "-DNDEBUG", "-std=gnu11"] + (simd ? ["-DGGML_CPU_Q8_0", simdObject] : []) + includes
                  + [harness, "\(ggml)/src/ggml-quants.c", "-lm", "-o", binary]) != nil else {
            return .failure(Unavailable(description: "\(cc) could not compile ggml-quants.c from \(root)"))
        }
        let input = "\(dir)/floats.f32"
        guard FileManager.default.createFile(atPath: input, contents: floats.withUnsafeBytes { Data($0) }) else {
            return .failure(Unavailable(description: "cannot write \(input)"))
        }
        return .success(GGMLHarness(source: root, simd: simd, binary: binary, input: input, dir: dir,
                                    count: floats.count))
    }

    /// One run of the harness: best encode and decode seconds by type name ("Q8_0-cpu": the SIMD
    /// encoder, no decoder), or nil if it failed.
    func run(rowLength: Int, minimumSeconds: Double, only: Set<String>?) -> [String: (encode: Double, decode: Double?)]? {
        guard let output = Self.run(binary, [input, "\(count)", "\(rowLength)", dir, "\(minimumSeconds)"]
                                        + (only.map { [$0.sorted().joined(separator: ",") + ",Q8_0-cpu"] } ?? [])) else { return nil }
        var seconds: [String: (encode: Double, decode: Double?)] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let encode = Double(fields[1]), let decode = Double(fields[2]) else { continue }
            seconds[String(fields[0])] = (encode, decode < 0 ? nil : decode)
        }
        return seconds
    }

    /// Runs a program to completion; its standard output, or nil when it cannot start or fails.
    static func run(_ program: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The C harness: ggml's codecs, timed the same way as ours.
let harnessSource = #"""
// Times ggml's own codecs (the functions llama-quantize calls) single-threaded on the floats in a file.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ggml-impl.h"

void ggml_abort(const char *file, int line, const char *fmt, ...) { abort(); }
size_t ggml_row_size(enum ggml_type type, int64_t ne) { return 0; } // the quantize_* return values are unused
const char *ggml_type_name(enum ggml_type type) { return ""; }
size_t ggml_type_size(enum ggml_type type) { abort(); }

typedef size_t (*quantize_fn)(const float *, void *, int64_t, int64_t, const float *);
typedef void (*dequantize_fn)(const void *, float *, int64_t);

#define CODEC(t) size_t quantize_##t(const float *, void *, int64_t, int64_t, const float *); \
                 void dequantize_row_##t(const void *, float *, int64_t);
CODEC(q4_0) CODEC(q4_1) CODEC(q5_0) CODEC(q5_1) CODEC(q8_0)
CODEC(q2_K) CODEC(q3_K) CODEC(q4_K) CODEC(q5_K) CODEC(q6_K)
CODEC(iq4_nl) CODEC(iq4_xs) CODEC(tq1_0) CODEC(tq2_0) CODEC(mxfp4)
CODEC(iq2_xxs) CODEC(iq2_xs) CODEC(iq2_s) CODEC(iq3_xxs) CODEC(iq3_s) CODEC(iq1_s) CODEC(iq1_m)
void iq2xs_init_impl(enum ggml_type type);
void iq3xs_init_impl(int grid_size);

// ggml.c's ggml_fp32_to_fp16_row / ggml_fp16_to_fp32_row / ggml_fp32_to_bf16_row_ref /
// ggml_bf16_to_fp32_row (ggml.c is not compiled here: same loops, same ggml-impl.h conversions).
static size_t quantize_f16(const float *x, void *y, int64_t nrow, int64_t n, const float *w) {
    ggml_fp16_t *h = y;
    for (int64_t i = 0; i < nrow * n; i++) h[i] = GGML_FP32_TO_FP16(x[i]);
    return 0;
}
static void dequantize_row_f16(const void *x, float *y, int64_t n) {
    const ggml_fp16_t *h = x;
    for (int64_t i = 0; i < n; i++) y[i] = GGML_FP16_TO_FP32(h[i]);
}
static size_t quantize_bf16(const float *x, void *y, int64_t nrow, int64_t n, const float *w) {
    ggml_bf16_t *h = y;
    for (int64_t i = 0; i < nrow * n; i++) h[i] = GGML_FP32_TO_BF16(x[i]);
    return 0;
}
static void dequantize_row_bf16(const void *x, float *y, int64_t n) {
    const ggml_bf16_t *h = x;
    for (int64_t i = 0; i < n; i++) y[i] = GGML_BF16_TO_FP32(h[i]);
}

#ifdef GGML_CPU_Q8_0
// ggml-cpu's SIMD quantizer (arch/<arch>/quants.c), what ggml uses for activations.
void quantize_row_q8_0(const float *, void *, int64_t);
float ggml_table_f32_f16[1 << 16];
float ggml_table_f32_e8m0_half[1 << 8];
float ggml_table_f32_ue4m3[1 << 8];
static size_t quantize_q8_0_cpu(const float *x, void *y, int64_t nrow, int64_t n, const float *w) {
    quantize_row_q8_0(x, y, nrow * n);
    return 0;
}
#endif

// `weighted`: quantized with a uniform importance matrix (llama-quantize requires one for these types,
// but for token_embd and output).
static const struct { const char *name; int block, bytes; quantize_fn quantize; dequantize_fn dequantize; int weighted; } codecs[] = {
    {"F16", 1, 2, quantize_f16, dequantize_row_f16}, {"BF16", 1, 2, quantize_bf16, dequantize_row_bf16},
    {"Q4_0", 32, 18, quantize_q4_0, dequantize_row_q4_0}, {"Q4_1", 32, 20, quantize_q4_1, dequantize_row_q4_1},
    {"Q5_0", 32, 22, quantize_q5_0, dequantize_row_q5_0}, {"Q5_1", 32, 24, quantize_q5_1, dequantize_row_q5_1},
    {"Q8_0", 32, 34, quantize_q8_0, dequantize_row_q8_0},
    {"Q2_K", 256, 84, quantize_q2_K, dequantize_row_q2_K}, {"Q3_K", 256, 110, quantize_q3_K, dequantize_row_q3_K},
    {"Q4_K", 256, 144, quantize_q4_K, dequantize_row_q4_K}, {"Q5_K", 256, 176, quantize_q5_K, dequantize_row_q5_K},
    {"Q6_K", 256, 210, quantize_q6_K, dequantize_row_q6_K},
    {"IQ4_NL", 32, 18, quantize_iq4_nl, dequantize_row_iq4_nl}, {"IQ4_XS", 256, 136, quantize_iq4_xs, dequantize_row_iq4_xs},
    {"TQ1_0", 256, 54, quantize_tq1_0, dequantize_row_tq1_0}, {"TQ2_0", 256, 66, quantize_tq2_0, dequantize_row_tq2_0},
    {"MXFP4", 32, 17, quantize_mxfp4, dequantize_row_mxfp4},
    {"IQ2_XXS", 256, 66, quantize_iq2_xxs, dequantize_row_iq2_xxs, 1}, {"IQ2_XS", 256, 74, quantize_iq2_xs, dequantize_row_iq2_xs, 1},
    {"IQ2_S", 256, 82, quantize_iq2_s, dequantize_row_iq2_s, 1}, {"IQ3_XXS", 256, 98, quantize_iq3_xxs, dequantize_row_iq3_xxs, 1},
    {"IQ3_S", 256, 110, quantize_iq3_s, dequantize_row_iq3_s, 0}, {"IQ1_S", 256, 50, quantize_iq1_s, dequantize_row_iq1_s, 1},
    {"IQ1_M", 256, 56, quantize_iq1_m, dequantize_row_iq1_m, 1},
#ifdef GGML_CPU_Q8_0
    {"Q8_0-cpu", 32, 34, quantize_q8_0_cpu, NULL},
#endif
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Usage: harness FLOATS COUNT ROW OUTDIR MIN_SECONDS [NAME,NAME,…]. Prints "NAME ENCODE_S DECODE_S" per codec (the
// best of repeated runs) and writes each encoding to OUTDIR/NAME.bin for a byte comparison.
int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) { fprintf(stderr, "usage: %s FLOATS COUNT ROW OUTDIR MIN_SECONDS [NAMES]\n", argv[0]); return 2; }
    int64_t count = atoll(argv[2]), row = atoll(argv[3]);
    double minSeconds = atof(argv[5]);
    float *x = malloc(count * 4), *y = malloc(count * 4);
    void *q = malloc(count * 4);
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(x, 4, count, f) != (size_t)count) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    fclose(f);
    memset(y, 0, count * 4);
    memset(q, 0, count * 4);
    float *ones = malloc(row * 4);
    for (int64_t i = 0; i < row; i++) ones[i] = 1;
    // What llama-quantize's ggml_quantize_init does for the lattice types (outside the timing).
    iq2xs_init_impl(GGML_TYPE_IQ2_XXS); iq2xs_init_impl(GGML_TYPE_IQ2_XS); iq2xs_init_impl(GGML_TYPE_IQ2_S);
    iq2xs_init_impl(GGML_TYPE_IQ1_S); iq2xs_init_impl(GGML_TYPE_IQ1_M); iq3xs_init_impl(256); iq3xs_init_impl(512);
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
        if (argc == 7) {  // only the listed codecs
            char list[4096];
            snprintf(list, sizeof list, ",%s,", argv[6]);
            char name[64];
            snprintf(name, sizeof name, ",%s,", codecs[c].name);
            if (!strstr(list, name)) continue;
        }
        double times[2] = {0, 0};
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1 && !codecs[c].dequantize) { times[1] = -1; break; }
            double best = 1e30, total = 0;
            for (int rep = 0; rep < 2 || total < minSeconds; rep++) {
                double start = now();
                if (pass == 0) codecs[c].quantize(x, q, count / row, row, codecs[c].weighted ? ones : NULL);
                else for (int64_t r = 0; r < count / row; r++)  // row by row into one reused row
                    codecs[c].dequantize((const char *)q + r * (row / codecs[c].block * codecs[c].bytes), y, row);
                double t = now() - start;
                total += t;
                if (t < best) best = t;
            }
            times[pass] = best;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.bin", argv[4], codecs[c].name);
        FILE *out = fopen(path, "wb");
        if (!out || fwrite(q, 1, count / codecs[c].block * codecs[c].bytes, out) != (size_t)(count / codecs[c].block * codecs[c].bytes)) {
            fprintf(stderr, "cannot write %s\n", path); return 1;
        }
        fclose(out);
        printf("%s %.9f %.9f\n", codecs[c].name, times[0], times[1]);
        fflush(stdout);
    }
    return 0;
}
"""#
