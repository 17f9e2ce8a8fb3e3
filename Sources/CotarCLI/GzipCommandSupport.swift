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
      throw CotarError(.invalidArgument, "--index with ls is for a .tar.gz and its .tar.gz.index", source: archive)
    }
    if prefix != nil || recursive || glob != nil || files {
      let table: NameTable
      if let stored = try await gzip.nameTable(speculativeBytes: remote.speculativeBytes) {
        table = stored
      } else {
        printError("cotar: note: \(archive) has no name table; scanning the whole tar (\(gzip.header.uncompressedSize) bytes)")
        table = try await NameTable.scanning(tar: gzip)
      }
      try writeStandardOutput(try await listing(table))
      return
    }
    try await list(TarScanner(source: gzip))
  }
}
