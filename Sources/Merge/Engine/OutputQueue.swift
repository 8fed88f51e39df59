import Dispatch
import GGUF
import Synchronization

/// The engine's output, written in order on a thread of its own: a batch's write to the file
/// overlaps the next batches' arithmetic instead of following it while the workers wait.
///
/// Batches are encoded into `depth` buffers in turn (`batch`, sized by `reserve`): the writer writes
/// the oldest while the next batches fill the others. `advance(count:)` hands the current buffer to
/// the writer and returns once the next one is free again; `drain()` waits for everything queued. A failed write is reported by the
/// next `advance`, `drain` or `writeNow`, and later writes are skipped.
///
/// Each buffer is page-aligned with a page of room in front: a batch starts at its bytes' position
/// within a page of the file (`startTensor(fileOffset:)`, then batch after batch), so that a direct
/// write can take them from the buffer itself (`GGUFWriter.appendPart(region:offset:count:)`), whose
/// pages the kernel pins for the device: huge pages where offered (`HugePages`), 512 times fewer.
final class OutputQueue: @unchecked Sendable {
    /// A region, the offset of the batch's bytes in it, and their count; the region's bytes before
    /// the offset are the writer's to use.
    typealias BatchSink = (_ region: UnsafeMutableRawBufferPointer, _ offset: Int, _ count: Int) throws(MergeError) -> Void
    private let sink: (UnsafeRawBufferPointer) throws(MergeError) -> Void
    private let queue = DispatchQueue(label: "ggufmerge.output")
    /// What the writer's blocks use. They hold this, never the queue itself: a block that released the
    /// queue's last reference would run its `deinit`, which waits for the writer, on the writer's own
    /// thread (a trap, seen when a failed write made the engine give up while a block was running).
    private final class Writer: @unchecked Sendable {
        let batchSink: BatchSink
        let failure = Mutex<MergeError?>(nil)
        init(batchSink: @escaping BatchSink) { self.batchSink = batchSink }
    }
    private let writer: Writer
    private var buffers: [UnsafeMutableRawBufferPointer] = []
    /// One per buffer: taken while the buffer is being filled or written. (Created at 0 and
    /// signalled: libdispatch traps when a semaphore is freed below its initial value.)
    private let free: [DispatchSemaphore]
    /// Batch buffers: while the writer waits on the disk for one, the workers fill the others. Four,
    /// measured on a linear 1B F16 merge with direct writes: 1.54–1.72 s against 1.78–2.27 s with
    /// two (eight: no better).
    static let depth = 4
    /// The buffer the current batch is encoded into (changed only by `advance`, between batches).
    private var current = 0
    /// Where the current batch starts in its buffer: its first byte's position within a page of the file.
    private var phase = 0
    /// Bytes a batch may hold (`reserve`): its buffer but the page in front.
    private var capacity: Int { buffers.first.map { $0.count - Self.page } ?? 0 }
    private static let page = DirectIO.alignment

    /// `sink` writes bytes to the file: on the writer's thread, or in `writeNow` once the queue is
    /// empty, so never twice at once. `batchSink` writes a batch (by default, `sink` with its bytes).
    init(sink: @escaping (UnsafeRawBufferPointer) throws(MergeError) -> Void, batchSink: BatchSink? = nil) {
        self.sink = sink
        if let batchSink {
            writer = Writer(batchSink: batchSink)
        } else {
            writer = Writer { (region, offset, count) throws(MergeError) in
                try sink(UnsafeRawBufferPointer(rebasing: region[offset ..< offset + count]))
            }
        }
        free = (0 ..< Self.depth).map { _ in DispatchSemaphore(value: 0) }
        for semaphore in free.dropFirst() { semaphore.signal() }
    }

    deinit {
        queue.sync {}
        for buffer in buffers { buffer.deallocate() }
    }

    /// Makes every buffer hold at least `count` bytes (waiting for queued writes if they must grow).
    func reserve(_ count: Int) throws(MergeError) {
        guard buffers.isEmpty || capacity < count else { return }
        try drain()
        for buffer in buffers { buffer.deallocate() }
        buffers = (0 ..< Self.depth).map { _ in
            HugePages.allocate(byteCount: Self.page + max(count, 1), alignment: Self.page)
        }
    }

    /// The next batch's first byte will be at `fileOffset` in the file (the batches after it follow
    /// it without a gap).
    func startTensor(fileOffset: Int) {
        phase = fileOffset % Self.page
    }

    /// The buffer of the current batch (see `reserve`).
    var batch: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: buffers[current][phase ..< phase + capacity])
    }

    /// Queues the first `count` bytes of the current batch and switches to the other buffer once its
    /// write is done.
    func advance(count: Int) throws(MergeError) {
        // The engine keeps these bytes alive and unchanged until `done` is signalled.
        let region = UncheckedSendable(buffers[current]), offset = phase
        let done = free[current]
        queue.async { [writer] in
            if writer.failure.withLock({ $0 == nil }) {
                do throws(MergeError) { try writer.batchSink(region.value, offset, count) } catch { writer.failure.withLock { $0 = error } }
            }
            done.signal()
        }
        current = (current + 1) % Self.depth
        phase = (phase + count) % Self.page
        free[current].wait()
        try check()
    }

    /// Writes bytes the caller owns (a raw copy of an input's tensor) after everything queued.
    func writeNow(_ bytes: UnsafeRawBufferPointer) throws(MergeError) {
        try drain()
        try sink(bytes)
    }

    /// Waits until every queued write is done.
    func drain() throws(MergeError) {
        queue.sync {}
        try check()
    }

    private func check() throws(MergeError) {
        if let error = writer.failure.withLock({ $0 }) { throw error }
    }
}
