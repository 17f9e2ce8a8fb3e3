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
      "For a .tar.gz: uncompressed bytes between seek points (64KiB to 1GiB).", valueName: "size"))
  var seekSpacing = ByteCount(UInt64(GzipIndexFormat.defaultSpacing))

  func validate() throws {
    // Out of range is a usage error (exit 64), found before any archive is opened.
    guard (64 << 10)...(1 << 30) ~= seekSpacing.bytes else {
      throw ValidationError("--seek-spacing must be from 64KiB to 1GiB, got \(seekSpacing.bytes) bytes")
    }
  }

  func run() async throws {
    let destination = output.output ?? withoutQuery(tar) + ".index"
    if GzipIndexFormat.isGzipName(tar) {
      try await writeGzipIndex(
        of: tar, to: destination, index: index, spacing: Int(seekSpacing.bytes), force: output.force, remote: remote)
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
    throw CotarError(.invalidArgument, "cannot write to \(scheme):// outputs; write to a path or to s3://bucket/key", source: SourceResolver.redacted(destination))
  }
  guard withoutQuery(tar) != destination else {
    throw CotarError(.invalidArgument, "the output is the input", source: SourceResolver.redacted(destination))
  }
  if !includingTar, index.noNames, SourceResolver.scheme(of: destination) != "s3" {
    try OutputGuard.refuseStaleNames(namesSidecarPath(forIndex: destination), overwrite: force)
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
    // The sidecar index's X.tar.names: written, or with --no-names removed when it is there
    // (it would describe an older build), and without --force an existing one is refused.
    let namesSidecar = includingTar ? nil : namesSidecarPath(forIndex: destination)
    let namesDestination = names == nil ? nil : namesSidecar
    if SourceResolver.scheme(of: destination) == "s3" {
      let object = try S3ObjectPath(parsing: destination)
      let uploader = try session.uploader(for: destination)
      // With --no-names and --force, an existing X.tar.names is kept in memory, deleted
      // before the index is written and put back if that fails (S3 has no rename).
      var staleNames: (object: S3ObjectPath, bytes: [UInt8])?
      for output in [destination] + (namesSidecar.map { [$0] } ?? []) where !force || (output == namesSidecar && names == nil) {
        let existing = try session.source(output)
        do {
          let size = try await existing.size()
          guard force else { throw CotarError(.outputExists, "the output exists; pass --force to replace it", source: output) }
          staleNames = (try S3ObjectPath(parsing: output), try await existing.read(0..<size))
        } catch let error as CotarError where error.code == .notFound {}
      }
      if includingTar {
        let copyFrom = (source as? S3RangeSource).flatMap { $0.s3.endpoint == uploader.s3.endpoint ? $0.object : nil }
        try await uploader.upload(source, copyFrom: copyFrom, followedBy: tail, to: object)
      } else {
        if let namesDestination, let names {
          try await session.uploader(for: namesDestination).put(names, to: try S3ObjectPath(parsing: namesDestination))
        }
        if let staleNames, let namesSidecar {
          let namesUploader = try session.uploader(for: namesSidecar)
          try await namesUploader.delete(staleNames.object)
          do {
            try await uploader.put(tail, to: object)
          } catch {
            try? await namesUploader.put(staleNames.bytes, to: staleNames.object)
            throw error
          }
          reportRemovedNames(namesSidecar)
        } else {
          try await uploader.put(tail, to: object)
        }
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
      try commit(writer, removingStaleNames: names == nil ? namesSidecar : nil)
    }
    printError(buildSummary(result, output: destination))
  }
}

/// Builds the index of `tar` and writes it atomically to `destination`, after a copy of the
/// tar bytes when `includingTar` (a `.tar.co`), then prints the one-line summary.
///
/// - Throws: `CotarError` from the scan, the build or the output.
func writeIndex(of tar: String, to destination: String, index: IndexOptions, force: Bool, includingTar: Bool) async throws {
  let inputs = Set([OutputGuard.identity(of: tar)].compactMap { $0 })
  try OutputGuard.refuse(destination: destination, sameAs: inputs)
  // A sidecar index built with --no-names: an X.tar.names beside it describes an older
  // build; refused without --force, removed with the commit with it.
  let staleNames = includingTar || !index.noNames ? nil : namesSidecarPath(forIndex: destination)
  if let staleNames {
    try OutputGuard.refuse(destination: staleNames, sameAs: inputs)
    try OutputGuard.refuseStaleNames(staleNames, overwrite: force)
  }
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
  try commit(writer, removingStaleNames: staleNames)
  printError(buildSummary(result, output: destination))
}

/// Commits `writer`; with `stale`, removes that name-table sidecar with the commit (see
/// ``AtomicFileWriter/commit(removing:)``) and says so on stderr.
///
/// - Throws: as ``AtomicFileWriter/commit(removing:)``.
func commit(_ writer: AtomicFileWriter, removingStaleNames stale: String?) throws {
  guard let stale else { return try writer.commit() }
  if try writer.commit(removing: stale) { reportRemovedNames(stale) }
}

/// Says that the stale name-table sidecar `path` was removed.
func reportRemovedNames(_ path: String) {
  printError("cotar: removed \(path): it described an earlier build, and --no-names writes no name table")
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
