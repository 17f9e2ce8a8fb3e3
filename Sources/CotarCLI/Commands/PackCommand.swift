import ArgumentParser
import CotarCore
import CotarWriter

/// `cotar pack INPUT... --shard-size SIZE -o PREFIX`: packs a tree into size-limited shards.
struct PackCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pack",
    abstract: "Pack files into numbered shards of at most SIZE bytes each (index included) plus PREFIX.manifest.json.",
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

  @Option(name: .shortAndLong, help: "Output prefix: PREFIX-00000.tar.co … and PREFIX.manifest.json.")
  var output: String

  @Option(help: "Directory that archive names are relative to (default: the current directory).", completion: .directory)
  var base: String = "."

  @Flag(help: "Write .tar.co shards (index appended); otherwise .tar shards with .tar.index sidecars.")
  var co = false

  @Flag(name: .customLong("no-dedupe"), help: "Store identical files separately instead of as hard links.")
  var noDedupe = false

  @OptionGroup var build: BuildOptions

  func validate() throws {
    guard !inputs.isEmpty else { throw ValidationError("give at least one file or directory to pack") }
    do {
      guard try ByteSize.parse(shardSize) > 0 else { throw ValidationError("--shard-size must be more than 0") }
    } catch let error as CotarError {
      throw ValidationError(error.message)
    }
  }

  func run() async throws {
    let limit = try ByteSize.parse(shardSize)
    let collection = try TarInputCollector(options: .init(base: base)).collect(inputs)
    for warning in collection.warnings { printError("cotar: \(warning)") }
    let options = CotarPacker.Options(
      shardSize: limit, prefix: output, combined: co, index: build.builderOptions, overwrite: build.force)
    let progress = writeProgressPrinter("packing")
    let summary = try await CotarPacker.pack(
      collection.inputs, options: options,
      contentDigest: noDedupe ? nil : { try sha256(ofFile: $0.filesystemPath, identity: $0.identity) },
      fileDigest: { hexString(try sha256(ofFile: Array($0.utf8))) }, progress: progress)
    endWriteProgress(progress)
    for warning in summary.warnings { printError("cotar: warning: \(warning)") }
    let shards = summary.manifest.shards
    let largest = shards.map(\.totalSize).max() ?? 0
    var line = "\(summary.manifestPath): \(shards.count) shards, \(shards.reduce(0) { $0 + $1.entries }) entries, largest shard \(largest) bytes (limit \(limit))"
    if let range = summary.packingRange {
      let low = Int(range.lowerBound), high = Int(range.upperBound)
      line += ", packing " + (low == high ? "\(low)%" : "\(low)–\(high)%") + (build.packing == nil ? " (automatic)" : "")
    }
    printError(line)
  }
}
