import GGUF
import Merge
import Quant

let toolVersion = "ggufmerge 0.1.0"

/// A subcommand: its interface and what it does with parsed arguments.
protocol Command {
    static var spec: CommandSpec { get }
    static func run(_ arguments: ParsedArguments) throws
}

/// The one-line message and exit code for any error the libraries throw: configuration and input
/// problems the user must fix are 2, failures while running are 1.
func describe(_ error: any Error) -> (String, Int32) {
    switch error {
    case let error as ConfigError: (error.description, 2)
    case let error as MergeError:
        switch error {
        case .file, .other: (error.description, 1)
        default: (error.description, 2)
        }
    case let error as GGUFError: (error.description, 1)
    case let error as QuantError: (error.description, 1)
    case let error as CustomStringConvertible: (error.description, 1)
    default: ("\(error)", 1)
    }
}
