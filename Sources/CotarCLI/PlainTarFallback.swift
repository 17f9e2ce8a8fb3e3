import CotarCore

/// An archive opened for reading entries, and the name table its scan built when it had no
/// index (see ``OpenedLocation/openIndexingPlainTar(named:withNames:)``).
struct IndexedArchive {
  /// The archive with its index (from the file, or built in memory by a scan).
  var cotar: Cotar
  /// The name table built by that scan (`nil`: the archive had an index).
  var scannedNames: NameTable?
  /// Files of a scanned tar that the v2 format cannot describe (4 GiB or more): the
  /// in-memory index leaves them out, and `get` reads them from here (`extract` finds them
  /// in the scanned name table). Empty for an archive with an index.
  var beyondIndex: [[UInt8]: CotarEntry] = [:]
}

extension OpenedLocation {
  /// Opens the archive with its index; a local tar that has none at all (no sidecar given
  /// or found, and no index at its end, which is a tar's zero end blocks) is scanned once
  /// instead and indexed in memory, with a note on stderr, as `ls` lists such a tar by
  /// scanning. A remote tar without an index is refused as before (the error says to pass
  /// `--index`): indexing it would mean downloading all of it for every command.
  ///
  /// - Parameters:
  ///   - archive: the archive as the user named it (for the note).
  ///   - withNames: also build the name table in the same scan.
  /// - Throws: `CotarError` from opening, or from the scan (`.invalidTar`, `.truncated`…)
  ///   and the in-memory build; an archive that has an index but a broken one is reported
  ///   as before, never scanned.
  func openIndexingPlainTar(named archive: String, withNames: Bool) async throws -> IndexedArchive {
    let error: CotarError
    do {
      return IndexedArchive(cotar: try await open(), scannedNames: nil)
    } catch let failure as CotarError {
      error = failure
    }
    guard lacksAnyIndex(error) else { throw error }
    let size = try await tar.size()
    // A plain tar ends with zero blocks; anything else where a `.tar.co` keeps its footer is
    // a damaged index (or not a tar), which the error reports better than a scan would.
    guard size >= 1024, try await tar.read((size - 512)..<size).allSatisfy({ $0 == 0 }) else {
      // Not a tar at all (a ZIP or cpio file, a shard-set manifest…): say what it is.
      if size > 0, let format = ForeignFormat.ofFile(startingWith: try await tar.read(0..<min(size, UInt64(ForeignFormat.headLength)))) {
        throw format.error(for: tar.identity)
      }
      throw error
    }
    printError(
      "cotar: note: \(SourceResolver.redacted(archive)) has no index; scanning the whole tar (\(counted(Int(clamping: size), "byte"))) to index it in memory (write one with cotar index/create)"
    )
    // This index is never written: a file the v2 format cannot describe (SPEC §4) is left
    // out of it and read through `beyondIndex` / the name table instead of failing the tar.
    var options = CotarIndexBuilder.Options()
    options.leavesOutEntriesBeyondFormat = true
    let built = try await CotarIndexBuilder.build(
      tar: tar, options: options, names: withNames ? NameTableBuilder.Options() : nil)
    let indexBytes = built.index.bytes
    let index = try await CotarIndex.open(
      sidecar: MemorySource(indexBytes, identity: "\(SourceResolver.redacted(archive)) (indexed in memory)"), speculativeBytes: indexBytes.count)
    var names: NameTable?
    if let tableBytes = built.names {
      names = try await NameTable.open(
        in: MemorySource(tableBytes, identity: "\(SourceResolver.redacted(archive)) (names in memory)"), endingAt: UInt64(tableBytes.count),
        speculativeBytes: tableBytes.count)
    }
    var beyondIndex: [[UInt8]: CotarEntry] = [:]
    for (path, entry) in built.beyondFormat { beyondIndex[path] = entry }
    return IndexedArchive(cotar: Cotar(index: index, data: tar), scannedNames: names, beyondIndex: beyondIndex)
  }

  /// Whether `error` says only that a local tar has no index at its end, with no sidecar in
  /// play: a plain tar (not a `.tar.gz`, which needs its `.tar.gz.index`).
  private func lacksAnyIndex(_ error: CotarError) -> Bool {
    guard error.code == .invalidMagic, error.source == tar.identity, !GzipIndexFormat.isGzipName(tar.identity),
      CotarIndex.localFile(of: tar) != nil
    else { return false }
    switch sources.index {
    case .trailing, .guessedSidecar: return true
    case .sidecar: return false
    }
  }
}
