import GGUF
import Merge
import Quant

/// The exit codes of every command, decided here and nowhere else (README's table).
enum ExitCode: Int32 {
    case success = 0
    /// The run failed while working: reading or writing failed (disk full, I/O error, …).
    case failure = 1
    /// The command line, the config or an input is wrong: nothing was written.
    case usage = 2
    /// Stopped by SIGHUP, SIGINT or SIGTERM (128 + the signal); temporary files deleted.
    case hangup = 129
    case interrupt = 130
    case terminate = 143

    /// The code for an error of any module, by its kind: what the user must fix is `.usage`, what
    /// went wrong while running is `.failure`.
    init(_ error: any Error) {
        switch error {
        case is UsageError, is ConfigError: self = .usage
        case let error as GGUFError: self = Self(error)
        case let error as QuantError: self = Self(error)
        case let error as MergeError:
            switch error {
            case let .gguf(cause, _): self = Self(cause)
            case let .quantization(cause, _): self = Self(cause)
            case .file, .other: self = .failure
            default: self = .usage
            }
        default: self = .failure
        }
    }

    /// Writing the output failed (`.failure`), or an input or the output path is unusable (`.usage`).
    init(_ error: GGUFError) {
        switch error {
        case .cannotCreate, .writeFailed, .tensorCountMismatch, .wrongTensorSize, .writerClosed, .invalidOutput,
             .interrupted:
            self = .failure
        default:
            self = .usage
        }
    }

    /// A codec size mismatch is a failure of this program; every rule of llama-quantize's that
    /// refuses a plan is the user's to fix.
    init(_ error: QuantError) {
        switch error {
        case .sizeMismatch: self = .failure
        default: self = .usage
        }
    }
}

/// The one-line message for an error of any module.
func message(_ error: any Error) -> String {
    switch error {
    case let error as UsageError: error.message
    case let error as CustomStringConvertible: error.description
    default: "\(error)"
    }
}
