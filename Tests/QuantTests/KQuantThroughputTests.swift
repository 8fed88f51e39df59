import Foundation
import GGUF
import Quant
import Testing

/// A manual throughput check, not a test of correctness: prints single-thread MB/s (of F32 data)
/// for each K-quant codec, timed in thread CPU time (steadier than wall time on a busy machine), best of
/// five runs over 4 MB of F32. Run it in release mode:
///
///     KQUANTS_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter KQuantThroughputTests
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["KQUANTS_BENCH"] != nil))
struct KQuantThroughputTests {
    @Test(arguments: KQuantFixtures.types)
    func throughput(type: GGMLType) throws {
        let n = 1 << 20
        let x = KQuantEdgeCaseTests.gaussian(count: n, seed: 1).map { $0 * 0.02 }
        var q = [UInt8](repeating: 0, count: type.byteCount(elements: n)!)
        var y = [Float](repeating: 0, count: n)
        func best(_ body: () throws -> Void) rethrows -> Double {
            var best = Double.infinity
            for _ in 0..<5 {
                let start = threadCPUSeconds()
                try body()
                best = min(best, threadCPUSeconds() - start)
            }
            return Double(n * 4) / 1e6 / best
        }
        let quantizeRate = try best {
            try x.withUnsafeBufferPointer { s in try q.withUnsafeMutableBytes { try Codecs.quantize(type, s, into: $0) } }
        }
        let dequantizeRate = try best {
            try q.withUnsafeBytes { s in try y.withUnsafeMutableBufferPointer { try Codecs.dequantize(type, s, into: $0) } }
        }
        print("\(type.name): quantize \(Int(quantizeRate)) MB/s, dequantize \(Int(dequantizeRate)) MB/s (F32 side, one thread)")
        #expect(y.contains { $0 != 0 })
    }
}

/// CPU time consumed by the calling thread, in seconds.
private func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
