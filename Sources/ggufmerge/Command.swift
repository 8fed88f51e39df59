import GGUF
import Merge
import Quant

let toolVersion = "ggufmerge 0.1.0"

/// A subcommand: its interface and what it does with parsed arguments.
protocol Command {
    static var spec: CommandSpec { get }
    static func run(_ arguments: ParsedArguments) throws
}
