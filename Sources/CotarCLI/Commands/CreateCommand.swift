import ArgumentParser
import CotarCore

/// `cotar create TAR`: writes a `.tar.co` (the tar followed by its index).
struct CreateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create", abstract: "Write a .tar.co: the tar bytes followed by the index (default output: TAR.co).")

  @Argument(help: "The tar to convert: a path, an http(s):// URL or s3://bucket/key.", completion: .file())
  var tar: String

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  @OptionGroup var remote: RemoteArguments

  func run() async throws {
    let destination = output.output ?? withoutQuery(tar) + ".co"
    if SourceResolver.isRemote(tar) || SourceResolver.isRemote(destination) {
      try await writeRemoteIndex(of: tar, to: destination, index: index, force: output.force, remote: remote, includingTar: true)
    } else {
      try await writeIndex(of: tar, to: destination, index: index, force: output.force, includingTar: true)
    }
  }
}
