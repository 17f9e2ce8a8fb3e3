import CotarCore

extension ValidateCommand {
  /// The tar to scan: the uncompressed view of a `.tar.gz` (after checking the archive is the
  /// one indexed), the tar part of a `.tar.co`, or the tar itself.
  ///
  /// - Throws: `CotarError` `.sourceChanged` when a `.tar.gz` does not match its index.
  func validatedTar(_ cotar: Cotar, _ location: OpenedLocation) async throws -> any RangeSource {
    if let gzip = cotar.data as? GzipTarSource {
      try await gzip.verifyIdentity()
      return gzip
    }
    return cotar.dataLimit.map { PrefixSource(location.tar, length: $0) } ?? location.tar
  }
}

extension ListCommand {
  /// `ls` of a `.tar.gz` through its `.tar.gz.index`: the name table it holds, or a scan of
  /// the tar through the seek points.
  ///
  /// - Throws: `CotarError` when the archive or its index cannot be opened or read.
  func listGzip(_ session: SourceSession) async throws {
    let cotar = try await ArchiveLocation(archive, index: index).resolve(using: session.resolver)
      .open(options: remote.openOptions)
    guard let gzip = cotar.data as? GzipTarSource else {
      throw CotarError(.invalidArgument, "--index with ls is for a .tar.gz and its .tar.gz.index", source: SourceResolver.redacted(archive))
    }
    if !tarOrder {
      let table: NameTable
      if let stored = try await gzip.nameTable(speculativeBytes: remote.speculativeBytes) {
        table = stored
      } else {
        printError("cotar: note: \(SourceResolver.redacted(archive)) has no name table; scanning the whole tar (\(gzip.header.uncompressedSize) bytes)")
        table = try await NameTable.scanning(tar: gzip)
      }
      try await writeListing(table)
      return
    }
    try await list(TarScanner(source: gzip))
  }
}

/// The name table of a `.tar.gz`, from its `.tar.gz.index`, or a scan of the tar through
/// the seek points when the index has none.
///
/// - Throws: `CotarError` when the archive or its index cannot be opened or read.
func gzipNames(archive: String, session: SourceSession, speculativeBytes: Int) async throws -> NameTable {
  let cotar = try await ArchiveLocation(archive).resolve(using: session.resolver)
    .open(options: Cotar.OpenOptions(speculativeBytes: speculativeBytes))
  guard let gzip = cotar.data as? GzipTarSource else {
    throw CotarError(.invalidArgument, "\(SourceResolver.redacted(archive)) was not opened as a .tar.gz", source: SourceResolver.redacted(archive))
  }
  if let table = try await gzip.nameTable(speculativeBytes: speculativeBytes) { return table }
  printError("cotar: note: \(SourceResolver.redacted(archive)) has no name table; scanning the whole tar (\(gzip.header.uncompressedSize) bytes)")
  return try await NameTable.scanning(tar: gzip)
}

/// How `info` describes where the index is.
func layoutDescription(_ cotar: Cotar) -> String {
  if let gzip = cotar.data as? GzipTarSource {
    let windows = gzip.points.filter { $0.kind == .blockBoundary }.count
    return
      "tar.gz + .tar.gz.index (\(gzip.header.compressedSize) bytes compressed, \(gzip.header.uncompressedSize) uncompressed, \(counted(gzip.points.count, "seek point")), \(windows) with windows; v2 index at byte \(cotar.index.baseOffset) of the index)"
  }
  return cotar.dataLimit == nil ? "tar + sidecar index" : "tar.co (index at byte \(cotar.index.baseOffset))"
}
