import ArgumentParser
import CotarCore
import CotarWriter

/// `cotar pack INPUT... --shard-size SIZE -o PREFIX`: packs a tree into size-limited shards.
struct PackCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pack",
    abstract: "Pack files into numbered shards of at most SIZE bytes each (index included) plus PREFIX.manifest.json (-o PREFIX).",
    discussion: """
      Paths are sorted bytewise and cut into consecutive runs, so each shard covers a path \
      range listed in the manifest. A file is never split; one larger than SIZE gets a shard \
      of its own (with a warning). SIZE accepts 12MiB, 1GiB (powers of 1024) or 100G, 100MB \
      (powers of 1000).
      """)

  @Argument(help: "Files and directories to pack, relative to --base.", completion: .file())
  var inputs: [String]

  @Option(name: .customLong("shard-size"), help: "Largest shard size, index included (e.g. 12MiB, 1GiB, 100G).")
  var shardSize: String

  @Flag(help: "Write .tar.co shards (index appended); otherwise .tar shards with .tar.index sidecars.")
  var co = false

  @OptionGroup var tree: TreeInputOptions
  @OptionGroup var index: IndexOptions
  @OptionGroup var outputOptions: OutputOptions

  func validate() throws {
    guard !inputs.isEmpty else { throw ValidationError("give at least one file or directory to pack") }
    guard outputOptions.output != nil else {
      throw ValidationError("give the output prefix with -o PREFIX (shards PREFIX-00000.tar.co … and PREFIX.manifest.json)")
    }
    do {
      guard try ByteSize.parse(shardSize) > 0 else { throw ValidationError("--shard-size must be more than 0") }
    } catch let error as CotarError {
      throw ValidationError(error.message)
    }
  }

  func run() async throws {
    let limit = try ByteSize.parse(shardSize)
    var options = CotarPacker.Options(
      shardSize: limit, prefix: outputOptions.output ?? "", combined: co, index: index.builderOptions,
      overwrite: outputOptions.force)
    options.names = !index.noNames
    let progress = writeProgressPrinter("packing")
    let summary = try await CotarPacker.pack(
      try tree.collect(inputs), options: options, contentDigest: tree.contentDigest,
      fileDigest: { hexString(try sha256(ofFile: Array($0.utf8))) }, progress: progress)
    endWriteProgress(progress)
    for warning in summary.warnings { printError("cotar: warning: \(warning)") }
    let shards = summary.manifest.shards
    let largest = shards.map(\.totalSize).max() ?? 0
    var line = "\(summary.manifestPath): \(shards.count) shards, \(shards.reduce(0) { $0 + $1.entries }) entries, largest shard \(largest) bytes (limit \(limit))"
    if let range = summary.packingRange {
      let low = Int(range.lowerBound), high = Int(range.upperBound)
      line += ", packing " + (low == high ? "\(low)%" : "\(low)–\(high)%") + (index.packing == nil ? " (automatic)" : "")
    }
    printError(line)
  }
}
