import ArgumentParser
import CotarCore
import CotarWriter

/// `cotar tar OUTPUT INPUT...`: writes a reproducible tar (optionally with its index).
struct TarCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tar",
    abstract: "Write a reproducible tar of files and directories (sorted, mtime 0, owner 0, duplicates as hard links).")

  @Argument(help: "The tar (or .tar.co) to write.", completion: .file())
  var output: String

  @Argument(help: "Files and directories to archive, relative to --base.", completion: .file())
  var inputs: [String]

  @Option(help: "Directory that archive names are relative to (default: the current directory).", completion: .directory)
  var base: String = "."

  @Flag(help: "Store directories as members too (default: only their contents).")
  var dirs = false

  @Flag(help: "Append the index after the tar (write a .tar.co).")
  var co = false

  @Flag(name: .customLong("index"), help: "Also write the sidecar OUTPUT.index.")
  var sidecar = false

  @Flag(name: .customLong("no-dedupe"), help: "Store identical files separately instead of as hard links.")
  var noDedupe = false

  @OptionGroup var build: BuildOptions

  func validate() throws {
    guard !inputs.isEmpty else { throw ValidationError("give at least one file or directory to archive") }
  }

  func run() async throws {
    let collector = TarInputCollector(options: .init(base: base, includeDirectories: dirs))
    let collection = try collector.collect(inputs)
    for warning in collection.warnings { printError("cotar: \(warning)") }
    let plan = try TarPlan.plan(collection.inputs, digest: noDedupe ? nil : { try sha256(ofFile: $0.filesystemPath, identity: $0.identity) })
    let progress = writeProgressPrinter("writing")
    var options = ReproducibleTar.Options(overwrite: build.force, combined: co, sidecar: sidecar, index: build.builderOptions)
    options.names = !build.noNames
    let summary = try await ReproducibleTar.write(plan, to: output, options: options, progress: progress)
    endWriteProgress(progress)
    var line = "\(output): \(summary.members) members, \(summary.dataBytes) data bytes"
    if summary.deduplicated > 0 { line += ", \(summary.deduplicated) stored as hard links" }
    if let stats = summary.index { line += ", index \(stats.files) entries in \(stats.slots) slots" + packingSummary(stats) }
    printError(line)
  }
}
