import ArgumentParser
import CotarCore
import CotarWriter

/// `cotar tar OUTPUT INPUT...`: writes a reproducible tar (optionally with its index).
struct TarCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tar",
    abstract: "Write a reproducible tar of files and directories (sorted, mtime 0, owner 0, duplicates as hard links).")

  @Argument(
    help: "The tar (or .tar.co) to write, unless -o names it, then the files and directories to archive (relative to --base).",
    completion: .file())
  var arguments: [String] = []

  @Flag(help: "Append the index after the tar (write a .tar.co).")
  var co = false

  @Flag(name: .customLong("index"), help: "Also write the sidecar OUTPUT.index.")
  var sidecar = false

  @Flag(help: "Write a cloud-friendly .tar.gz: concatenated gzip members (with --index, its .tar.gz.index).")
  var gzip = false

  @Option(help: ArgumentHelp("With --gzip: uncompressed bytes per gzip member (default 1MiB).", valueName: "size"))
  var gzipMemberSize: String = "1MiB"

  @Option(help: "With --gzip: zlib compression level, 1 to 9.")
  var gzipLevel: Int = 6

  @OptionGroup var tree: TreeInputOptions
  @OptionGroup var index: IndexOptions
  @OptionGroup var outputOptions: OutputOptions

  /// The tar to write: `-o`, or the first argument.
  private var output: String { outputOptions.output ?? arguments.first ?? "" }
  /// What to archive: every argument after the output.
  private var inputs: [String] { outputOptions.output == nil ? Array(arguments.dropFirst()) : arguments }

  func validate() throws {
    guard !inputs.isEmpty else { throw ValidationError("give the output, then at least one file or directory to archive") }
    guard !(gzip && co) else { throw ValidationError("--gzip and --co exclude each other (a .tar.gz keeps its index beside it: --index)") }
    guard (1...9).contains(gzipLevel) else { throw ValidationError("--gzip-level must be from 1 to 9") }
  }

  func run() async throws {
    let plan = try tree.plan(inputs)
    let progress = writeProgressPrinter("writing")
    var options = ReproducibleTar.Options(
      overwrite: outputOptions.force, combined: co, sidecar: sidecar, index: index.builderOptions)
    options.names = !index.noNames
    let summary: ReproducibleTar.Summary
    var gzipNote = ""
    if gzip {
      guard let memberSize = Int(exactly: try ByteSize.parse(gzipMemberSize)), memberSize >= 64 << 10, memberSize <= 1 << 30 else {
        throw ValidationError("--gzip-member-size must be from 64KiB to 1GiB")
      }
      let written = try await ReproducibleTar.writeGzip(
        plan, to: output, options: options, memberSize: memberSize, level: Int32(gzipLevel), progress: progress)
      summary = written.summary
      gzipNote = ", \(written.members) gzip members, \(summary.outputBytes) bytes compressed"
    } else {
      summary = try await ReproducibleTar.write(plan, to: output, options: options, progress: progress)
    }
    endWriteProgress(progress)
    var line = "\(output): \(summary.members) members, \(summary.dataBytes) data bytes\(gzipNote)"
    if summary.deduplicated > 0 { line += ", \(summary.deduplicated) stored as hard links" }
    if let stats = summary.index { line += ", index \(stats.files) entries in \(stats.slots) slots" + packingSummary(stats) }
    printError(line)
  }
}
