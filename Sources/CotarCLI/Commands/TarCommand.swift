import ArgumentParser
import CotarCore
import CotarWriter

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `cotar tar OUTPUT INPUT...`: writes a reproducible tar (optionally with its index).
struct TarCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tar",
    abstract: "Write a reproducible tar of files and directories (sorted, mtime 0, owner 0, duplicates as hard links).")

  @Argument(
    help: "The tar (or .tar.co) to write ('-' for standard output), unless -o names it, then the files and directories to archive (relative to --base).",
    completion: .file())
  var arguments: [String] = []

  @Flag(
    inversion: .prefixedNo,
    help: "Append the index after the tar (a .tar.co); without either flag, an OUTPUT ending in .co gets it and any other (.tar, -) does not.")
  var co: Bool?

  @Flag(name: .customLong("index"), help: "Also write the sidecar OUTPUT.index.")
  var sidecar = false

  @OptionGroup var gzipOptions: GzipOutputOptions
  @OptionGroup var tree: TreeInputOptions
  @OptionGroup var index: IndexOptions
  @OptionGroup var outputOptions: OutputOptions

  /// The tar to write: `-o`, or the first argument.
  private var output: String { outputOptions.output ?? arguments.first ?? "" }
  /// What to archive: every argument after the output.
  private var inputs: [String] { outputOptions.output == nil ? Array(arguments.dropFirst()) : arguments }

  /// Whether the index goes after the tar: `--co`/`--no-co`, else from the output's name.
  private var combined: Bool { co ?? output.hasSuffix(".co") }
  /// Whether the archive goes to standard output (`-`).
  private var toStandardOutput: Bool { output == "-" }
  /// Whether the output's name says gzip (`.tar.gz`, `.tgz`): such an output is always
  /// compressed, as GNU tar's `--auto-compress` does.
  private var gzipName: Bool { output != "-" && GzipIndexFormat.isGzipName(output) }
  /// Whether the tar is written gzip-compressed: `--gzip`, or an output named `.tar.gz`/`.tgz`.
  private var gzip: Bool { gzipOptions.gzip || gzipName }

  func validate() throws {
    guard !inputs.isEmpty else { throw ValidationError("give the output, then at least one file or directory to archive") }
    try gzipOptions.requireCompression(gzip)
    if gzipOptions.gzip, output != "-", !gzipName {
      throw ValidationError(
        "--gzip writes a gzip-compressed tar, but the output \(output) is not named .tar.gz or .tgz (Cotar reads a gzip-compressed tar by its name); name it \(GzipIndexFormat.gzipName(for: output))")
    }
    guard !(gzip && co == true) else {
      throw ValidationError(
        gzipOptions.gzip
          ? "--gzip and --co exclude each other (a .tar.gz keeps its index beside it: --index)"
          : "--co cannot go with the output \(output): a name ending in .tar.gz or .tgz means a gzip-compressed tar, which keeps its index beside it (--index)")
    }
    if output == "-", sidecar { throw ValidationError("--index writes OUTPUT.index beside a file; it cannot go with '-' (standard output)") }
    if output == "-", gzip { throw ValidationError("--gzip writes a file; it cannot go with '-' (standard output)") }
  }

  func run() async throws {
    let plan = try tree.plan(inputs)
    let progress = writeProgressPrinter("writing")
    var options = ReproducibleTar.Options(
      overwrite: outputOptions.force, combined: combined, sidecar: sidecar, index: index.builderOptions)
    options.names = !index.noNames
    let summary: ReproducibleTar.Summary
    var gzipNote = ""
    if gzip {
      let written = try await ReproducibleTar.writeGzip(
        plan, to: output, options: options, memberSize: try gzipOptions.memberSize, level: gzipOptions.level,
        progress: progress)
      summary = written.summary
      gzipNote = ", \(counted(written.members, "gzip member")), \(counted(Int(clamping: summary.outputBytes), "byte")) compressed"
    } else if toStandardOutput {
      guard isatty(1) != 1 else {
        throw CotarError(.invalidArgument, "refusing to write a tar to a terminal; redirect standard output (cotar tar - … > out.tar)")
      }
      summary = try await ReproducibleTar.write(plan, into: StandardOutputTar(), options: options, progress: progress)
    } else {
      summary = try await ReproducibleTar.write(plan, to: output, options: options, progress: progress)
    }
    endWriteProgress(progress)
    if let removed = summary.removedNames { reportRemovedNames(removed) }
    var line = "\(toStandardOutput ? "standard output" : output)\(combined ? " (.tar.co)" : ""): \(counted(summary.members, "member")), \(counted(Int(clamping: summary.dataBytes), "data byte"))\(gzipNote)"
    if summary.deduplicated > 0 {
      line += ", \(counted(summary.deduplicated, "file")) stored as \(summary.deduplicated == 1 ? "a hard link" : "hard links")"
    }
    if let stats = summary.index { line += ", index \(counted(stats.files, "entry", "entries")) in \(counted(stats.slots, "slot"))" + packingSummary(stats) }
    printError(line)
  }
}

/// A tar written to standard output (`cotar tar - …`), sequentially.
final class StandardOutputTar: TarOutput {
  private(set) var bytesWritten: UInt64 = 0

  func write(_ bytes: [UInt8]) throws {
    try writeStandardOutput(bytes)
    bytesWritten += UInt64(bytes.count)
  }
}
