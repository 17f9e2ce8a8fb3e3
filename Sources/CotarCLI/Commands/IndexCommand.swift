import ArgumentParser
import CotarCore
import CotarS3
import CotarWriter

/// `cotar index TAR`: writes a `.tar.index` sidecar.
struct IndexCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "index", abstract: "Build a .tar.index sidecar for a tar, or a .tar.gz.index for a .tar.gz (default output: TAR.index).")

  @Argument(help: "The tar to index: a path, an http(s):// URL or s3://bucket/key.", completion: .file())
  var tar: String

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  @OptionGroup var remote: RemoteArguments

  @Option(
    help: ArgumentHelp(
      "For a .tar.gz: uncompressed bytes between seek points (64KiB to 1GiB; default 1MiB).", valueName: "size"))
  var seekSpacing: String = "1MiB"

  func run() async throws {
    let destination = output.output ?? withoutQuery(tar) + ".index"
    if GzipIndexFormat.isGzipName(tar) {
      let spacing = try ByteSize.parse(seekSpacing)
      guard let spacing = Int(exactly: spacing) else { throw CotarError(.invalidArgument, "--seek-spacing is too large") }
      try await writeGzipIndex(
        of: tar, to: destination, index: index, spacing: spacing, force: output.force, remote: remote)
      return
    }
    if SourceResolver.isRemote(tar) || SourceResolver.isRemote(destination) {
      try await writeRemoteIndex(of: tar, to: destination, index: index, force: output.force, remote: remote, includingTar: false)
    } else {
      try await writeIndex(of: tar, to: destination, index: index, force: output.force, includingTar: false)
    }
  }
}

/// `writeIndex` for a remote tar or a remote output: the tar is scanned where it lives with
/// adaptive range reads (hopping over large members, streaming small ones); an `s3://`
/// output is written with one signed PUT (a sidecar) or, for a `.tar.co`, with a multipart
/// upload whose tar part is copied server-side when the tar is in S3 too.
///
/// - Throws: `CotarError` from the scan, the build, the store or the output;
///   `.invalidArgument` for an `http(s)://` output; `.outputExists` for an existing S3
///   output without `--force`.
func writeRemoteIndex(
  of tar: String, to destination: String, index: IndexOptions, force: Bool, remote: RemoteArguments, includingTar: Bool
) async throws {
  if let scheme = SourceResolver.scheme(of: destination), scheme != "s3", scheme != "file" {
    throw CotarError(.invalidArgument, "cannot write to \(scheme):// outputs; write to a path or to s3://bucket/key", source: destination)
  }
  guard withoutQuery(tar) != destination else {
    throw CotarError(.invalidArgument, "the output is the input", source: destination)
  }
  try await remote.withSession(needed: true) { session in
    let source = try session.source(tar)
    var scanOptions = TarScanner.Options()
    if SourceResolver.isRemote(tar) { scanOptions.adaptiveMinimumReadAheadBytes = 4096 }
    let progress = scanProgressPrinter("indexing")
    let result = try await CotarIndexBuilder.build(
      tar: source, options: index.builderOptions, scanOptions: scanOptions, progress: progress,
      names: index.noNames ? nil : .init())
    endProgressLine(progress)
    let size = try await source.size()
    let padding = includingTar ? result.scan.terminatorPadding(fileSize: size) : 0
    // A .tar.co holds the name table between the tar and the index (SPEC §12.1); a sidecar
    // index gets it as X.tar.names beside it, written before the index.
    let names = result.names
    let tail = [UInt8](repeating: 0, count: Int(padding)) + (includingTar ? names ?? [] : []) + result.index.bytes
    let namesDestination = includingTar || names == nil ? nil : namesSidecarPath(forIndex: destination)
    if SourceResolver.scheme(of: destination) == "s3" {
      let object = try S3ObjectPath(parsing: destination)
      let uploader = try session.uploader(for: destination)
      if !force {
        for output in [destination] + (namesDestination.map { [$0] } ?? []) {
          let existing = try session.source(output)
          do {
            _ = try await existing.size()
            throw CotarError(.outputExists, "the output exists; pass --force to replace it", source: output)
          } catch let error as CotarError where error.code == .notFound {}
        }
      }
      if includingTar {
        let copyFrom = (source as? S3RangeSource).flatMap { $0.s3.endpoint == uploader.s3.endpoint ? $0.object : nil }
        try await uploader.upload(source, copyFrom: copyFrom, followedBy: tail, to: object)
      } else {
        if let namesDestination, let names {
          try await session.uploader(for: namesDestination).put(names, to: try S3ObjectPath(parsing: namesDestination))
        }
        try await uploader.put(tail, to: object)
      }
    } else {
      let writer = try AtomicFileWriter(destination: destination, overwrite: force)
      if includingTar { try await writer.copy(from: source, range: 0..<size) }
      if let namesDestination, let names {
        let namesWriter = try AtomicFileWriter(destination: namesDestination, overwrite: force)
        try namesWriter.write(names)
        try namesWriter.commit()
      }
      try writer.write(tail)
      try writer.commit()
    }
    printError(buildSummary(result, output: destination))
  }
}

/// Builds the index of `tar` and writes it atomically to `destination`, after a copy of the
/// tar bytes when `includingTar` (a `.tar.co`), then prints the one-line summary.
///
/// - Throws: `CotarError` from the scan, the build or the output.
func writeIndex(of tar: String, to destination: String, index: IndexOptions, force: Bool, includingTar: Bool) async throws {
  try OutputGuard.refuse(destination: destination, sameAs: Set([OutputGuard.identity(of: tar)].compactMap { $0 }))
  let writer = try AtomicFileWriter(destination: destination, overwrite: force)
  let source = try FileSource(path: tar)
  let progress = scanProgressPrinter("indexing")
  let result = try await CotarIndexBuilder.build(
    tar: source, options: index.builderOptions, progress: progress, names: index.noNames ? nil : .init())
  endProgressLine(progress)
  if includingTar {
    let size = try await source.size()
    try await writer.copy(from: source, range: 0..<size)
    // An unterminated tar gets its end-of-archive marker, so tar readers stop before the index.
    let padding = result.scan.terminatorPadding(fileSize: size)
    if padding > 0 { try writer.write([UInt8](repeating: 0, count: Int(padding))) }
    // The name table sits between the tar and the index (SPEC §12.1).
    if let names = result.names { try writer.write(names) }
  } else if let names = result.names {
    // Sidecar layout: X.tar.names beside X.tar.index.
    let namesPath = namesSidecarPath(forIndex: destination)
    try OutputGuard.refuse(destination: namesPath, sameAs: Set([OutputGuard.identity(of: tar)].compactMap { $0 }))
    let namesWriter = try AtomicFileWriter(destination: namesPath, overwrite: force)
    try namesWriter.write(names)
    try namesWriter.commit()
  }
  try writer.write(result.index.bytes)
  try writer.commit()
  printError(buildSummary(result, output: destination))
}

/// The one-line summary printed by `index` and `create`.
func buildSummary(_ result: IndexBuildResult, output: String) -> String {
  let stats = result.index.stats
  var line = "\(output): \(counted(stats.files, "entry", "entries")), \(counted(stats.slots, "slot")), longest probe \(stats.longestProbe)"
  line += packingSummary(stats)
  line += ", skipped \(result.scan.skippedCount)"
  if !result.scan.skipped.isEmpty {
    line += " (" + result.scan.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")"
  }
  if stats.duplicatesDropped > 0 { line += ", \(counted(stats.duplicatesDropped, "superseded duplicate"))" }
  return line
}

/// The name-table sidecar that goes with index file `index`: `X.tar.index` → `X.tar.names`,
/// any other name gets `.names` appended.
func namesSidecarPath(forIndex index: String) -> String {
  index.hasSuffix(".index") ? String(index.dropLast(".index".count)) + NameTableFormat.sidecarSuffix : index + NameTableFormat.sidecarSuffix
}

/// A remote `location` without its query and fragment (a local path as it is).
func withoutQuery(_ location: String) -> String {
  guard SourceResolver.isRemote(location), let cut = location.firstIndex(where: { $0 == "?" || $0 == "#" }) else {
    return location
  }
  return String(location[..<cut])
}
