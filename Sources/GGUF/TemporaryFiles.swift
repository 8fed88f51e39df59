#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// The temporary files this process is writing (every `GGUFWriter` shard not yet renamed into
/// place), so that a signal handler can delete them all before the process exits.
///
/// Process-wide: a writer registers each temporary file when it creates it and forgets it once it
/// is renamed or deleted. After `removeAll()` the registry is closed: a file created later is
/// deleted at once and its writer fails, so an interrupted run leaves nothing behind.
public enum TemporaryFiles {
    private struct State {
        var paths: Set<String> = []
        var closed = false
    }
    private static let state = Mutex(State())

    /// Records `path`; false (and nothing recorded) when the registry is closed.
    static func register(_ path: String) -> Bool {
        state.withLock { state in
            if state.closed { return false }
            state.paths.insert(path)
            return true
        }
    }

    static func forget(_ path: String) {
        _ = state.withLock { $0.paths.remove(path) }
    }

    /// Deletes every registered file, closes the registry, and returns the paths deleted.
    @discardableResult
    public static func removeAll() -> [String] {
        state.withLock { state in
            state.closed = true
            let paths = state.paths.sorted()
            for path in paths { unlink(path) }
            state.paths = []
            return paths
        }
    }
}
