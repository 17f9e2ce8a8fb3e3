import ArgumentParser
import CotarCore

/// `cotar create TAR`: writes a `.tar.co` (the tar followed by its index).
struct CreateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create", abstract: "Write a .tar.co: the tar bytes followed by the index (default output: TAR.co).")

  @Argument(help: "The tar to convert.", completion: .file())
  var tar: String

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func run() async throws {
    try await writeIndex(of: tar, to: output.output ?? tar + ".co", index: index, force: output.force, includingTar: true)
  }
}
