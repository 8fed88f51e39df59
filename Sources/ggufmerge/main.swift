import Foundation

/// The `ggufmerge` command line: parses, wires the libraries, reports. Exit codes: `ExitCode`.
let commands: [any Command.Type] = [MergeCommand.self, LoraCommand.self, QuantizeCommand.self, InspectCommand.self,
                                   CheckCommand.self, ExtractLoraCommand.self]

let toolSpec = CommandSpec(
    name: "ggufmerge",
    abstract: "Merge llama.cpp models directly in GGUF: dequantize, merge with mergekit's methods, requantize.",
    usage: "ggufmerge <command> [options]",
    options: [.init(names: ["-V", "--version"], help: "Show the version.")],
    discussion: """
        COMMANDS:
        \(commands.map { "  " + $0.spec.name.padding(toLength: 28, withPad: " ", startingAt: 0) + $0.spec.abstract }.joined(separator: "\n"))

          See 'ggufmerge help <command>' or 'ggufmerge <command> --help' for a command's options.

        EXIT STATUS:
          0 success; 1 failure while running (I/O); 2 usage, config or input error (nothing written);
          130, 143, 129 interrupted by SIGINT, SIGTERM, SIGHUP (temporary files removed).
        """)

func fail(_ message: String, usage: CommandSpec? = nil, code: ExitCode) -> Never {
    while Interruption.inProgress { pause() }  // the signal's handler reports and exits
    FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
    if let usage { FileHandle.standardError.write(Data("Usage: \(usage.usage)\n  See '\(usage.name == "ggufmerge" ? "ggufmerge" : "ggufmerge " + usage.name) --help'.\n".utf8)) }
    exit(code.rawValue)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let commandName = arguments.first else { fail("no command given", usage: toolSpec, code: .usage) }
if ["--help", "-h", "help"].contains(commandName) {
    if commandName == "help", arguments.count > 1 {
        guard let command = commands.first(where: { $0.spec.name == arguments[1] }) else {
            fail("unknown command '\(arguments[1])'", usage: toolSpec, code: .usage)
        }
        print(command.spec.helpText, terminator: "")
    } else {
        print(toolSpec.helpText, terminator: "")
    }
    exit(ExitCode.success.rawValue)
}
if commandName == "--version" || commandName == "-V" {
    print(toolVersion)
    exit(ExitCode.success.rawValue)
}
guard let command = commands.first(where: { $0.spec.name == commandName }) else {
    fail("unknown command '\(commandName)'", usage: toolSpec, code: .usage)
}
Interruption.install()
do {
    let parsed = try command.spec.parse(Array(arguments.dropFirst()))
    if parsed.wantsHelp {
        print(command.spec.helpText, terminator: "")
        exit(ExitCode.success.rawValue)
    }
    try command.run(parsed)
} catch let error as UsageError {
    fail(error.message, usage: error.command ?? command.spec, code: .usage)
} catch {
    fail(message(error), code: ExitCode(error))
}
