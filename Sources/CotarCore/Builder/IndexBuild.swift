/// What scanning a tar and building its index produced.
public struct IndexBuildResult: Sendable {
  /// The serialized index and its statistics.
  public var index: BuiltIndex
  /// What the tar walk found (end offset, members, skipped kinds).
  public var scan: TarScanSummary
  /// The name table bytes (SPEC §12), when asked for.
  public var names: [UInt8]? = nil
  /// Files left out of the index because the v2 format cannot describe them (only with
  /// ``CotarIndexBuilder/Options/leavesOutEntriesBeyondFormat``): path and data, in archive order.
  public var beyondFormat: [(pathBytes: [UInt8], entry: CotarEntry)] = []
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
    var walker = try await TarWalker(scanner: scanner, offset: 0)
    // The scan of TarScanner.scan, with a fast path: members of the common shape (a file,
    // directory or symlink without extended headers) are parsed in place and handed to the
    // builders as a path hash and the raw header, with no entry or path array per member.
    // Everything else (and every error) goes through the general step.
    walk: while true {
      walker.feedPlain(into: &builder, names: &nameBuilder, members: &members, progress: progress)
      switch try walker.step() {
      case .member(let entry):
        // A member whose data runs past the end of the archive: report the truncation, not
        // what the index builder thinks of its (declared) size.
        if let truncated = walker.pendingFailure { throw truncated }
        do {
          try builder.add(entry)
        } catch {
          throw error.withSource(tar.identity)
        }
        nameBuilder?.add(entry)
        members += 1
        if let progress, members & 0xFFFF == 0 {
          progress(ScanProgress(members: members, offset: entry.dataOffset))
        }
      case .end:
        break walk
      case .needs(let request):
        try Task.checkCancellation()
        try await walker.fulfil(request)
      }
    }
    var summary = walker.summary
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
      let beyondFormat = builder.beyondFormat
      let index = try await builder.build { headerOffset in
        try await pathScanner.entry(atHeaderOffset: headerOffset).pathBytes
      }
      return IndexBuildResult(index: index, scan: summary, names: try nameBuilder?.build(), beyondFormat: beyondFormat)
    } catch let error as CotarError {
      throw error.withSource(tar.identity)
    }
  }
}

extension TarWalker {
  /// Hands members parsed in place (``stepPlain(_:)``) to `builder` and, when there is one,
  /// the name-table builder `names`, until one needs the general step, counting them in
  /// `members` and reporting progress every 65,536 members.
  fileprivate mutating func feedPlain(
    into builder: inout CotarIndexBuilder, names: inout NameTableBuilder?, members: inout Int,
    progress: ((ScanProgress) -> Void)?
  ) {
    while let member = stepPlain({ member, header in
      // The index builder may refuse (the general step then reports why); the name table
      // takes the member only once the index has.
      guard builder.addPlain(member) else { return false }
      names?.addPlain(member, header: header)
      return true
    }) {
      members += 1
      if let progress, members & 0xFFFF == 0 {
        progress(ScanProgress(members: members, offset: member.dataOffset))
      }
    }
  }
}
