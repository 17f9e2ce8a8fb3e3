import ArgumentParser

/// The `cotar` command: build, inspect and read cloud-optimised tar archives.
@main
struct CotarCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cotar",
    abstract: "Cloud optimised tar: a hash index that finds any file in a tar with a few range reads.",
    version: "0.1.0",
    subcommands: [
      DemoCommand.self, IndexCommand.self, CreateCommand.self, GetCommand.self, ListCommand.self,
      InfoCommand.self, ValidateCommand.self, ServeCommand.self,
    ]
  )
}
