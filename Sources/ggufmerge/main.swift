import Foundation

/// The `ggufmerge` command line: parses, wires the libraries, reports. Exit codes: 0 ok,
/// 1 runtime failure, 2 usage or config error.
let commands: [any Command.Type] = [MergeCommand.self, LoraCommand.self, QuantizeCommand.self, InspectCommand.self,
                                   CheckCommand.self, ExtractLoraCommand.self]

let toolSpec = CommandSpec(
    name: "ggufmerge",
    abstract: "Merge llama.cpp models directly in GGUF: dequantize, merge with mergekit's methods, requantize.",
    usage: "ggufmerge <command> [options]",
    discussion: """
        COMMANDS:
        \(commands.map { "  " + $0.spec.name.padding(toLength: 28, withPad: " ", startingAt: 0) + $0.spec.abstract }.joined(separator: "\n"))

          See 'ggufmerge <command> --help' for a command's options.
        """)

func fail(_ message: String, usage: CommandSpec? = nil, code: Int32) -> Never {
    FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
    if let usage { FileHandle.standardError.write(Data("Usage: \(usage.usage)\n  See '\(usage.name == "ggufmerge" ? "ggufmerge" : "ggufmerge " + usage.name) --help'.\n".utf8)) }
    exit(code)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let commandName = arguments.first else { fail("no command given", usage: toolSpec, code: 2) }
if commandName == "--help" || commandName == "-h" || commandName == "help" {
    print(toolSpec.helpText, terminator: "")
    exit(0)
}
if commandName == "--version" {
    print(toolVersion)
    exit(0)
}
guard let command = commands.first(where: { $0.spec.name == commandName }) else {
    fail("unknown command '\(commandName)'", usage: toolSpec, code: 2)
}
do {
    let parsed = try command.spec.parse(Array(arguments.dropFirst()))
    if parsed.wantsHelp {
        print(command.spec.helpText, terminator: "")
        exit(0)
    }
    try command.run(parsed)
} catch let error as UsageError {
    fail(error.message, usage: error.command ?? command.spec, code: 2)
} catch {
    let (message, code) = describe(error)
    fail(message, code: code)
}
