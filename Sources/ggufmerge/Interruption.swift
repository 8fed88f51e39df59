import Dispatch
import Foundation
import GGUF
import Synchronization

/// SIGINT, SIGTERM and SIGHUP stop a run cleanly: the temporary files of every output shard are
/// deleted, and the folders registered with ``removeOnInterruption(_:)`` (a multi-document merge's
/// intermediates) with their contents; a line says so, and the process exits with 128 + the signal
/// (130, 143, 129).
///
/// The signals are received on a dispatch queue rather than in a signal handler, so the cleanup
/// may take locks and allocate. The process ends with `_exit`, as the work threads may still run.
enum Interruption {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let queue = DispatchQueue(label: "ggufmerge.signals")
    private static let started = Atomic(false)
    private static let folders = Mutex<[String]>([])

    /// Removes `folder` and its contents if the run is interrupted (until ``forget(_:)``).
    static func removeOnInterruption(_ folder: String) { folders.withLock { $0.append(folder) } }

    static func forget(_ folder: String) { folders.withLock { $0.removeAll { $0 == folder } } }

    /// True once a signal is being handled: a failure the cleanup causes elsewhere (a shard that can
    /// no longer be created) must not report itself or exit with its own code.
    static var inProgress: Bool { started.load(ordering: .acquiring) }

    static func install() {
        for (signal, code) in [(SIGINT, ExitCode.interrupt), (SIGTERM, .terminate), (SIGHUP, .hangup)] {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler {
                started.store(true, ordering: .releasing)
                let removed = TemporaryFiles.removeAll()
                let folders = folders.withLock { $0 }.filter { (try? FileManager.default.removeItem(atPath: $0)) != nil }
                let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "SIGHUP"
                var what = removed.isEmpty ? "" : "; removed \(removed.count) temporary file\(removed.count == 1 ? "" : "s")"
                if !folders.isEmpty { what += "; removed the intermediates folder" }
                FileHandle.standardError.write(Data("\nInterrupted by \(name)\(what), nothing written\n".utf8))
                _exit(code.rawValue)
            }
            source.resume()
            sources.append(source)
        }
    }
}
