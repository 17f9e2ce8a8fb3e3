import ArgumentParser
import CotarCore
import CotarS3
import CotarWriter

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `cotar pack INPUT... --shard-size SIZE -o PREFIX`: packs a tree into size-limited shards.
struct PackCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pack",
    abstract: "Pack files into numbered shards of at most SIZE bytes each (index included) plus PREFIX.manifest.json (-o PREFIX).",
    discussion: """
      Paths are sorted bytewise and cut into consecutive runs, so each shard covers a path \
      range listed in the manifest. A file is never split; one larger than SIZE gets a shard \
      of its own (with a warning). SIZE accepts 12MiB, 1GiB (powers of 1024) or 100G, 100MB \
      (powers of 1000). With -o s3://bucket/PREFIX the shards are built in a temporary \
      directory ($TMPDIR or /tmp), uploaded, and the manifest is uploaded last: a failed run \
      publishes no manifest and removes the shards it uploaded. A shard is named \
      PREFIX-NNNNN-HASH.tar.co (.tar, .tar.gz), HASH from its bytes, so --force never changes \
      a file the old manifest lists: a failed run leaves an existing set as it was. With \
      --gzip each shard is a cloud-friendly PREFIX-NNNNN-HASH.tar.gz (a gzip member every \
      --gzip-member-size, at entry boundaries) with its .tar.gz.index; SIZE then bounds the \
      worst case (incompressible data), so compressible data gives smaller shards.
      """)

  @Argument(help: "Files and directories to pack, relative to --base.", completion: .file())
  var inputs: [String]

  @Option(name: .customLong("shard-size"), help: "Largest shard size, index included (e.g. 12MiB, 1GiB, 100G).")
  var shardSize: String

  @Flag(help: "Write .tar.co shards (index appended); otherwise .tar shards with .tar.index sidecars.")
  var co = false

  @OptionGroup var gzipOptions: GzipOutputOptions
  @OptionGroup var tree: TreeInputOptions
  @OptionGroup var index: IndexOptions
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var remote: RemoteArguments

  func validate() throws {
    guard !inputs.isEmpty else { throw ValidationError("give at least one file or directory to pack") }
    guard outputOptions.output != nil else {
      throw ValidationError("give the output prefix with -o PREFIX (shards PREFIX-00000-HASH.tar.co … and PREFIX.manifest.json)")
    }
    try gzipOptions.requireCompression(gzipOptions.gzip)
    if gzipOptions.gzip && co {
      throw ValidationError("--gzip and --co exclude each other (a gzip shard keeps its index beside it, as .tar.gz.index)")
    }
    do {
      guard try ByteSize.parse(shardSize) > 0 else { throw ValidationError("--shard-size must be more than 0") }
    } catch let error as CotarError {
      throw ValidationError(error.message)
    }
  }

  func run() async throws {
    let prefix = outputOptions.output ?? ""
    if SourceResolver.scheme(of: prefix) == "s3" {
      try await remote.withSession(needed: true) { session in try await packToS3(prefix, session: session) }
      return
    }
    if let scheme = SourceResolver.scheme(of: prefix), scheme != "file" {
      throw CotarError(.invalidArgument, "cannot write to \(scheme):// outputs; write to a path or to s3://bucket/prefix", source: SourceResolver.redacted(prefix))
    }
    let summary = try await pack(prefix: prefix, overwrite: outputOptions.force, failpoint: debugFailpoint(CotarPacker.Step.self))
    printSummary(summary, manifest: summary.manifestPath)
  }

  /// Packs into local files `PREFIX-NNNNN-HASH…` and `PREFIX.manifest.json`.
  private func pack(
    prefix: String, overwrite: Bool, failpoint: (@Sendable (CotarPacker.Step) throws -> Void)? = nil
  ) async throws -> CotarPacker.Summary {
    var options = CotarPacker.Options(
      shardSize: try ByteSize.parse(shardSize), prefix: prefix, combined: co, index: index.builderOptions,
      overwrite: overwrite)
    options.names = !index.noNames
    options.failpoint = failpoint
    if gzipOptions.gzip { options.gzip = .init(memberSize: try gzipOptions.memberSize, level: gzipOptions.level) }
    let progress = writeProgressPrinter("packing")
    let summary = try await CotarPacker.pack(
      try tree.collect(inputs), options: options, contentDigest: tree.contentDigest,
      fileDigest: { hexString(try sha256(ofFile: Array($0.utf8))) }, digest: sha256Hex, progress: progress)
    endWriteProgress(progress)
    for warning in summary.warnings { printError("cotar: warning: \(warning)") }
    return summary
  }

  /// Packs into a temporary directory, uploads the shards beside `destination`
  /// (`s3://bucket/dir/NAME` → `s3://bucket/dir/NAME-00000-HASH.tar.co` …), then the manifest
  /// `NAME.manifest.json`, last. On failure no manifest is published and the objects this run
  /// uploaded are deleted again, except those the old manifest lists (a shard name holds a
  /// hash of its bytes, so those are unchanged). After success with `--force`, the old
  /// manifest's objects that the new one does not list are deleted.
  ///
  /// - Throws: `CotarError` `.outputExists` when the manifest exists and `--force` is not
  ///   given, `.invalidArgument` for a prefix without a name, and what packing or the store
  ///   throws (also when the old manifest cannot be read for another reason than being absent
  ///   or malformed).
  private func packToS3(_ destination: String, session: SourceSession) async throws {
    let base = try S3ObjectPath(parsing: destination)
    let slash = base.key.lastIndex(of: "/")
    let keyDirectory = slash.map { String(base.key[...$0]) } ?? ""
    let stem = slash.map { String(base.key[base.key.index(after: $0)...]) } ?? base.key
    guard !stem.isEmpty else {
      throw CotarError(.invalidArgument, "give the shards a name: -o s3://bucket/dir/NAME", source: destination)
    }
    let manifestLocation = destination + ".manifest.json"
    let manifestObject = S3ObjectPath(bucket: base.bucket, key: base.key + ".manifest.json")
    let listed = try await CotarPacker.filesListed { try session.source(manifestLocation) }.map(Set.init)
    if listed != nil && !outputOptions.force {
      throw CotarError(.outputExists, "the manifest exists; pass --force to replace it", source: manifestLocation)
    }
    let oldNames = listed ?? []
    let uploader = try session.uploader(for: "s3://\(base.bucket)/\(keyDirectory)\(stem)*")
    let temporary = temporaryDirectory()
    let staging = try CotarPacker.makeStagingDirectory((temporary.hasSuffix("/") ? temporary : temporary + "/") + "cotar-pack-")
    defer { CotarPacker.removeTree(staging) }
    let summary = try await pack(prefix: staging + "/" + stem, overwrite: false)
    var uploaded: [String] = []
    do {
      for shard in summary.manifest.shards {
        // A .tar shard comes with its index and, unless --no-names, its name table; a
        // .tar.gz shard with its .tar.gz.index.
        for name in shard.files {
          guard let file = try? FileSource(path: staging + "/" + name) else {
            if name == shard.name || name == shard.index { throw CotarError(.io, "the shard file is missing", source: name) }
            continue
          }
          try await uploader.upload(file, followedBy: [], to: S3ObjectPath(bucket: base.bucket, key: keyDirectory + name))
          uploaded.append(name)
        }
      }
      // Published last: a reader never finds a manifest whose shards are not all there.
      try await uploader.upload(try FileSource(path: summary.manifestPath), followedBy: [], to: manifestObject)
    } catch {
      // The existing set stays as it was, and nothing new is left.
      for name in uploaded where !oldNames.contains(name) {
        try? await uploader.delete(S3ObjectPath(bucket: base.bucket, key: keyDirectory + name))
      }
      throw error
    }
    for name in oldNames.subtracting(summary.manifest.shards.flatMap(\.files)).sorted() {
      try? await uploader.delete(S3ObjectPath(bucket: base.bucket, key: keyDirectory + name))
    }
    printSummary(summary, manifest: manifestLocation)
  }

  /// The one-line summary: shards, entries, largest shard, packing.
  private func printSummary(_ summary: CotarPacker.Summary, manifest: String) {
    let shards = summary.manifest.shards
    let largest = shards.map(\.totalSize).max() ?? 0
    let limit = (try? ByteSize.parse(shardSize)) ?? 0
    var line = "\(manifest): \(shards.count) shards, \(shards.reduce(0) { $0 + $1.entries }) entries, largest shard \(largest) bytes (limit \(limit))"
    if let range = summary.packingRange {
      let low = Int(range.lowerBound), high = Int(range.upperBound)
      line += ", packing " + (low == high ? "\(low)%" : "\(low)–\(high)%") + (index.packing == nil ? " (automatic)" : "")
    }
    printError(line)
  }
}
