import Dispatch
import Synchronization

/// Runs `body` over `0 ..< count` split into fixed chunks of `chunk` items on at most `threads`
/// threads, passing each call its worker's number (`0 ..< workers`, for per-worker scratch). Chunk
/// boundaries depend only on `count` and `chunk`, never on the thread count, so any computation that
/// writes each chunk's own output is deterministic.
///
/// When chunks throw, the error of the first such chunk (in chunk order) is rethrown once every
/// worker has stopped; chunks after a failure are skipped.
@inlinable
public func parallelChunks<E: Error>(count: Int, chunk: Int, threads: Int,
                                     _ body: (_ worker: Int, _ range: Range<Int>) throws(E) -> Void) throws(E) {
    guard count > 0 else { return }
    let chunk = max(chunk, 1)
    let chunks = (count + chunk - 1) / chunk
    let workers = min(max(threads, 1), chunks)
    if workers == 1 {
        for c in 0 ..< chunks { try body(0, c * chunk ..< min(count, (c + 1) * chunk)) }
        return
    }
    let next = Atomic<Int>(0)
    let failure = Mutex<(chunk: Int, error: E)?>(nil)
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while true {
                let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard c < chunks, failure.withLock({ $0 == nil }) else { return }
                do throws(E) {
                    try work.value(worker, c * chunk ..< min(count, (c + 1) * chunk))
                } catch {
                    failure.withLock { if $0 == nil || c < $0!.chunk { $0 = (c, error) } }
                }
            }
        }
    }
    if let failure = failure.withLock({ $0 }) { throw failure.error }
}

/// Carries a value the caller knows is safe to share across the chunk workers (closures over
/// disjoint ranges of unsafe buffers).
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}
