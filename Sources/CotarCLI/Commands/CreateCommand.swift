import ArgumentParser
import CotarCore

/// `cotar create TAR`: writes a `.tar.co` (the tar followed by its index).
struct CreateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create", abstract: "Write a .tar.co: the tar bytes followed by the index.")

  @Argument(help: "The tar to convert.", completion: .file())
  var tar: String

  @Option(name: .shortAndLong, help: "Output path (default: TAR.co).")
  var output: String?

  @OptionGroup var build: BuildOptions

  func run() async throws {
    try await writeIndex(of: tar, to: output ?? tar + ".co", options: build, includingTar: true)
  }
}
