import Dispatch
import Foundation
import GGUF
import Synchronization

/// SIGINT, SIGTERM and SIGHUP stop a run cleanly: the temporary files of every output shard are
/// deleted, a line says so, and the process exits with 128 + the signal (130, 143, 129).
///
/// The signals are received on a dispatch queue rather than in a signal handler, so the cleanup
/// may take locks and allocate. The process ends with `_exit`, as the work threads may still run.
enum Interruption {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let queue = DispatchQueue(label: "ggufmerge.signals")
    private static let started = Atomic(false)

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
                let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "SIGHUP"
                let what = removed.isEmpty ? "" : "; removed \(removed.count) temporary file\(removed.count == 1 ? "" : "s")"
                FileHandle.standardError.write(Data("\nInterrupted by \(name)\(what), nothing written\n".utf8))
                _exit(code.rawValue)
            }
            source.resume()
            sources.append(source)
        }
    }
}
