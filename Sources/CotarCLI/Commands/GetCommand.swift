import ArgumentParser
import CotarCore

/// `cotar get ARCHIVE PATH...`: writes entries' bytes to stdout or a file.
struct GetCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "get", abstract: "Write the bytes of one or more entries to standard output or a file.")

  @OptionGroup var archive: ArchiveArguments

  @Argument(help: "Entry paths, exactly as stored in the tar.")
  var paths: [String]

  @Option(name: .shortAndLong, help: "Write to this file instead of standard output (one path only).")
  var output: String?

  @Flag(help: "Replace the output file if it exists.")
  var force = false

  func validate() throws {
    guard !paths.isEmpty else { throw ValidationError("give at least one entry path") }
    if output != nil && paths.count > 1 { throw ValidationError("-o takes one entry path") }
  }

  func run() async throws {
    let cotar = try await archive.location().open()
    var missing = 0
    for path in paths {
      guard let bytes = try await cotar.read(pathBytes: rawArgumentBytes(path)) else {
        printError("cotar: '\(path)' is not in \(archive.archive)")
        missing += 1
        continue
      }
      if let output {
        let writer = try AtomicFileWriter(destination: output, overwrite: force)
        try writer.write(bytes)
        try writer.commit()
      } else {
        try writeStandardOutput(bytes)
      }
    }
    if missing > 0 { throw ExitCode.failure }
  }
}
