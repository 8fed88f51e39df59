import Foundation
import Synchronization
import Testing
@testable import Merge

/// The engine's output queue: batches written on the writer's thread arrive whole and in order, in
/// between bytes written directly, and a failed write stops the output and is reported.
@Suite struct OutputQueueTests {
    /// What a sink received, call by call.
    final class Received: Sendable {
        let writes = Mutex<[[UInt8]]>([])
        let calls = Mutex(0)
        /// The call (0-based) that fails with a disk-full error, if any.
        let failing: Int?
        init(failing: Int? = nil) { self.failing = failing }

        func sink(_ bytes: UnsafeRawBufferPointer) throws(MergeError) {
            let call = calls.withLock { count in
                defer { count += 1 }
                return count
            }
            if call == failing { throw .file("out.gguf: No space left on device") }
            writes.withLock { $0.append(Array(bytes)) }
        }
    }

    /// Fills the current batch with `count` bytes numbered from `first`.
    static func fill(_ queue: OutputQueue, first: Int, count: Int) {
        for i in 0 ..< count { queue.batch[i] = UInt8(truncatingIfNeeded: first + i) }
    }

    @Test func batchesAndDirectWritesArriveInOrder() throws {
        let received = Received()
        let queue = OutputQueue(sink: received.sink)
        try queue.reserve(40)
        var expected: [[UInt8]] = []
        for (k, count) in [40, 7, 33, 40, 1].enumerated() {
            Self.fill(queue, first: 50 * k, count: count)
            expected.append((0 ..< count).map { UInt8(truncatingIfNeeded: 50 * k + $0) })
            try queue.advance(count: count)
            if k == 2 {
                let direct: [UInt8] = [9, 8, 7]
                try direct.withUnsafeBytes { try queue.writeNow($0) }
                expected.append(direct)
            }
        }
        // A larger batch after queued ones: the buffers grow once the queue has drained.
        try queue.reserve(100)
        Self.fill(queue, first: 1, count: 100)
        try queue.advance(count: 100)
        expected.append((0 ..< 100).map { UInt8(truncatingIfNeeded: 1 + $0) })
        try queue.drain()
        #expect(received.writes.withLock { $0 } == expected)
    }

    /// A tensor's batches start at their file offset's position within a page, one after another, and
    /// the batch sink gets each with the room in front of it.
    @Test func batchesStartAtTheirFilePagePhase() throws {
        let regions = Mutex<[(address: Int, offset: Int, bytes: [UInt8])]>([])
        let queue = OutputQueue(sink: { _ in }, batchSink: { (region, offset, count) in
            let bytes = Array(region[offset ..< offset + count])
            regions.withLock { $0.append((Int(bitPattern: region.baseAddress), offset, bytes)) }
        })
        try queue.reserve(5000)
        queue.startTensor(fileOffset: 3 * 4096 + 4000)
        var expected: [(offset: Int, bytes: [UInt8])] = []
        var phase = 4000
        for (k, count) in [5000, 5000, 96, 1].enumerated() {
            #expect(Int(bitPattern: queue.batch.baseAddress) % 4096 == phase)
            Self.fill(queue, first: k, count: count)
            expected.append((phase, (0 ..< count).map { UInt8(truncatingIfNeeded: k + $0) }))
            try queue.advance(count: count)
            phase = (phase + count) % 4096
        }
        try queue.drain()
        let received = regions.withLock { $0 }
        #expect(received.map(\.offset) == expected.map(\.offset))
        #expect(received.map(\.bytes) == expected.map(\.bytes))
        #expect(received.allSatisfy { $0.address % 4096 == 0 })
    }

    /// A queue released while its writer is still writing (the engine giving up after an error) waits
    /// for the write on the releasing thread; its buffers outlive the write. (When the writer's block
    /// held the queue, the queue's `deinit` ran on the writer's own thread and trapped.)
    @Test func releasedWhileWritingWaitsForTheWrite() throws {
        let wrote = Mutex(false)
        do {
            let queue = OutputQueue(sink: { _ in }, batchSink: { (region, offset, count) in
                usleep(50_000)
                wrote.withLock { $0 = Array(region[offset ..< offset + count]) == (0 ..< 16).map { UInt8($0) } }
            })
            try queue.reserve(16)
            Self.fill(queue, first: 0, count: 16)
            try queue.advance(count: 16)
        }
        #expect(wrote.withLock { $0 })
    }

    @Test func aFailedWriteIsReportedAndStopsTheOutput() throws {
        let received = Received(failing: 1)
        let queue = OutputQueue(sink: received.sink)
        try queue.reserve(16)
        var thrown: MergeError?
        do {
            for k in 0 ..< 5 {
                Self.fill(queue, first: k, count: 16)
                try queue.advance(count: 16)
            }
            try queue.drain()
        } catch {
            thrown = error
        }
        #expect(thrown == .file("out.gguf: No space left on device"))
        // Only the batch before the failure reached the file, and no write was tried after it.
        #expect(received.writes.withLock { $0 } == [(0 ..< 16).map { UInt8($0) }])
        #expect(received.calls.withLock { $0 } == 2)
        #expect(throws: MergeError.file("out.gguf: No space left on device")) { try queue.drain() }
    }
}
