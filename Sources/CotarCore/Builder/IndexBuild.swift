/// What scanning a tar and building its index produced.
public struct IndexBuildResult: Sendable {
  /// The serialized index and its statistics.
  public var index: BuiltIndex
  /// What the tar walk found (end offset, members, skipped kinds).
  public var scan: TarScanSummary
  /// The name table bytes (SPEC §12), when asked for.
  public var names: [UInt8]? = nil
}

/// Progress of a long scan, reported every few thousand members.
public struct ScanProgress: Sendable {
  /// Members read so far.
  public var members: Int
  /// Byte offset reached in the tar.
  public var offset: UInt64
}

extension CotarIndexBuilder {
  /// Scans `tar` from the start and builds its index.
  ///
  /// - Parameters:
  ///   - tar: the archive (a `.tar`, or a `.tar.co` whose old index is ignored).
  ///   - options: packing and max search.
  ///   - scanOptions: read-ahead and extended-header limits.
  ///   - progress: called every 65,536 members, on the scanning task.
  ///   - names: when given, also build the name table (SPEC §12) with these options.
  /// - Returns: the index bytes, build statistics and scan summary.
  /// - Throws: `CotarError` from the scan (`.invalidTar`, `.truncated`) or the build
  ///   (`.hashCollision`, `.indexTooDense`, `.limitExceeded`).
  public static func build(
    tar: any RangeSource, options: Options = Options(), scanOptions: TarScanner.Options = .init(),
    progress: ((ScanProgress) -> Void)? = nil, names: NameTableBuilder.Options? = nil
  ) async throws -> IndexBuildResult {
    var builder = try CotarIndexBuilder(options: options)
    var nameBuilder = names.map { NameTableBuilder(options: $0) }
    let scanner = TarScanner(source: tar, options: scanOptions)
    var members = 0
    var summary = try await scanner.scan { entry in
      do {
        try builder.add(entry)
      } catch let error as CotarError {
        throw error.withSource(tar.identity)
      }
      nameBuilder?.add(entry)
      members += 1
      if let progress, members & 0xFFFF == 0 {
        progress(ScanProgress(members: members, offset: entry.dataOffset))
      }
    }
    if builder.hardLinksToSymlinks > 0 {
      // A hard link to a symlink is a symlink (SPEC §6): count it with them.
      summary.skipped[TarEntry.Kind.symbolicLink.description, default: 0] += builder.hardLinksToSymlinks
    }
    do {
      // Paths are re-read only for repeated hashes: with a small read-ahead, so a path that
      // occurs many times costs a block read per occurrence, not a 1 MiB read-ahead.
      var pathOptions = scanOptions
      pathOptions.readAheadBytes = 4096
      let pathScanner = TarScanner(source: tar, options: pathOptions)
      let index = try await builder.build { headerOffset in
        try await pathScanner.entry(atHeaderOffset: headerOffset).pathBytes
      }
      return IndexBuildResult(index: index, scan: summary, names: try nameBuilder?.build())
    } catch let error as CotarError {
      throw error.withSource(tar.identity)
    }
  }
}
