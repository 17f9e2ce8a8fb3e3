import CotarCore
import CotarS3
import CotarWriter

/// Builds the `.tar.gz.index` of `archive` (a path or URL) and writes it atomically to a
/// local `destination` or an `s3://` object, then prints a summary line.
///
/// - Throws: `CotarError` from the gzip pass, the tar scan, the build or the output.
func writeGzipIndex(
  of archive: String, to destination: String, index: IndexOptions, spacing: Int, force: Bool, remote: RemoteArguments
) async throws {
  if let scheme = SourceResolver.scheme(of: destination), scheme != "s3", scheme != "file" {
    throw CotarError(.invalidArgument, "cannot write to \(scheme):// outputs; write to a path or to s3://bucket/key", source: SourceResolver.redacted(destination))
  }
  if !SourceResolver.isRemote(destination) {
    try OutputGuard.refuse(destination: destination, sameAs: Set([OutputGuard.identity(of: archive)].compactMap { $0 }))
  }
  let needsClient = SourceResolver.isRemote(archive) || SourceResolver.isRemote(destination)
  try await remote.withSession(needed: needsClient) { session in
    let source = try session.source(archive)
    let progress = scanProgressPrinter("indexing")
    let result = try await GzipIndexBuilder.build(
      archive: source, spacing: spacing, options: index.builderOptions, names: index.noNames ? nil : .init(),
      spoolDirectory: SourceResolver.isRemote(archive) ? temporaryDirectory() : nil, progress: progress)
    endProgressLine(progress)
    if SourceResolver.scheme(of: destination) == "s3" {
      let object = try S3ObjectPath(parsing: destination)
      let uploader = try session.uploader(for: destination)
      if !force {
        do {
          _ = try await session.source(destination).size()
          throw CotarError(.outputExists, "the output exists; pass --force to replace it", source: SourceResolver.redacted(destination))
        } catch let error as CotarError where error.code == .notFound {}
      }
      try await uploader.put(result.bytes, to: object)
    } else {
      let writer = try AtomicFileWriter(destination: destination, overwrite: force)
      try writer.write(result.bytes)
      try writer.commit()
    }
    let windows = result.points.filter { $0.kind == .blockBoundary }.count
    printError(
      buildSummary(result.tar, output: destination)
        + ", \(counted(result.points.count, "seek point")) (\(windows) with windows), \(counted(result.members, "gzip member")), \(counted(result.bytes.count, "byte"))")
  }
}
