import Dispatch
import Synchronization

/// Runs `body` over `0 ..< count` split into fixed chunks of `chunk` items on at most `threads`
/// threads. Chunk boundaries depend only on `count` and `chunk`, never on the thread count, so any
/// computation that writes each chunk's own output is deterministic.
@inlinable
public func parallelChunks(count: Int, chunk: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let chunk = max(chunk, 1)
    let chunks = (count + chunk - 1) / chunk
    let workers = min(max(threads, 1), chunks)
    if workers == 1 {
        for c in 0 ..< chunks { body(c * chunk ..< min(count, (c + 1) * chunk)) }
        return
    }
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard c < chunks else { return }
                work.value(c * chunk ..< min(count, (c + 1) * chunk))
            }
        }
    }
}

/// Carries a value the caller knows is safe to share across the chunk workers (closures over
/// disjoint ranges of unsafe buffers).
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}
