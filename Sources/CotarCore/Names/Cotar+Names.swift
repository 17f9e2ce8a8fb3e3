extension Cotar {
  /// The name table stored before the index of a `.tar.co` (SPEC §12), read with one read of
  /// up to `speculativeBytes` ending at the index (none when the bytes kept from the open hold
  /// its end: ``Cotar/OpenOptions/keepSpeculativeRead``); `nil` when the archive has none or is a
  /// sidecar layout (open `X.tar.names` with ``NameTable/open(in:endingAt:speculativeBytes:)``).
  ///
  /// - Throws: as ``NameTable/open(in:endingAt:speculativeBytes:)``.
  public func nameTable(speculativeBytes: Int = 64 << 10) async throws -> NameTable? {
    // A .tar.gz keeps its table in the .tar.gz.index, before the v2 index (SPEC §13.1).
    if let gzip = data as? GzipTarSource { return try await gzip.nameTable(speculativeBytes: speculativeBytes) }
    guard let dataLimit else { return nil }
    var speculativeBytes = speculativeBytes
    if let prefetched = data as? PrefetchedSource, dataLimit > prefetched.windowStart,
      dataLimit <= prefetched.windowRange.upperBound
    {
      // The end of the table is in the bytes kept from the open: read its trailer (and block
      // index, when they hold it) from them instead of a fresh read reaching before them.
      speculativeBytes = min(speculativeBytes, Int(dataLimit - prefetched.windowStart))
    }
    return try await NameTable.open(in: data, endingAt: dataLimit, speculativeBytes: speculativeBytes)
  }

  /// ``nameTable(speculativeBytes:)`` for readers that can do without a table (listing by a
  /// scan, serving without a listing): a table of a version this reader does not know, such
  /// as a version-1 table from before SPEC §12's column layout, counts as absent instead of
  /// failing the whole archive, whose v2 index is still good. `validate` uses
  /// ``nameTable(speculativeBytes:)`` and reports it.
  ///
  /// - Throws: as ``nameTable(speculativeBytes:)``, except `.unsupportedVersion`.
  public func readableNameTable(speculativeBytes: Int = 64 << 10) async throws -> NameTable? {
    do {
      return try await nameTable(speculativeBytes: speculativeBytes)
    } catch let error as CotarError where error.code == .unsupportedVersion {
      return nil
    }
  }
}
