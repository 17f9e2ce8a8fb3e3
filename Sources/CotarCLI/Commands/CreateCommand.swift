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
    let destination = output ?? tar + ".co"
    let writer = try AtomicFileWriter(destination: destination, overwrite: build.force)
    let source = try FileSource(path: tar)
    let progress = scanProgressPrinter("indexing")
    let result = try await CotarIndexBuilder.build(tar: source, options: build.builderOptions, progress: progress)
    endProgressLine(progress)
    try await writer.copy(from: source, range: 0..<(try await source.size()))
    try writer.write(result.index.bytes)
    try writer.commit()
    printError(buildSummary(result, output: destination))
  }
}
