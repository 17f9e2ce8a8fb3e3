extension Cotar {
  /// Where the data of a file or hard-link record of the name table is, checked against the
  /// end of the tar data only. Readers of a stored table should use
  /// ``located(_:in:concurrency:)``, which also checks the record against the index.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a member without data (a directory, a
  ///   symbolic link), `.corruptIndex` when the record points past the tar.
  public func located(_ entry: NameEntry) throws -> CotarEntry {
    guard entry.kind == .file || entry.kind == .hardLink else {
      throw CotarError(.invalidArgument, "'\(entry.path)' is a \(entry.kind), not a file", path: entry.path)
    }
    let located = CotarEntry(offset: entry.dataOffset, size: entry.size)
    try checkWithinData(located, path: entry.path)
    return located
  }

  /// Where the data of each file or hard-link record of `table` is, in the order of
  /// `entries`, each checked against the index's entry for the same path (SPEC §12.5): a
  /// table left beside an index rebuilt for a different tar (a stale `X.tar.names`) would
  /// otherwise send reads to the wrong bytes. The index slots are looked up in one batch
  /// (``entries(pathBytes:concurrency:indexReads:indexGap:)``), so a remote archive costs a
  /// few window reads. A table built by scanning the tar itself (not stored) describes that
  /// tar: nothing is looked up.
  ///
  /// - Throws: as ``located(_:)``; `CotarError` `.staleNameTable` for the first record whose
  ///   offset and size differ from the index's (or that the index lacks), naming both; errors
  ///   of the index source.
  public func located(_ entries: [NameEntry], in table: NameTable, concurrency: Int = 16) async throws -> [CotarEntry] {
    let locations = try entries.map { try located($0) }
    guard table.isStored, !entries.isEmpty else { return locations }
    let indexed = try await self.entries(pathBytes: entries.map(\.pathBytes), concurrency: concurrency)
    for position in entries.indices {
      try checkAgainstIndex(entries[position], located: locations[position], indexed: indexed[position], table: table)
    }
    return locations
  }

  /// The data of a file or hard-link record of the name table (checked against the tar's
  /// end and against the index's entry for the same path, as ``located(_:in:concurrency:)``
  /// checks it; pass the `table` the record comes from so that a scanned table is not
  /// looked up and errors name the table).
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a member without data, `.corruptIndex`
  ///   when it points past the tar, `.staleNameTable` when the index disagrees, else as
  ///   ``RangeSource/read(_:)``.
  public func read(_ entry: NameEntry, in table: NameTable? = nil) async throws -> [UInt8] {
    let location = try located(entry)
    if table?.isStored ?? true {
      let indexed = try await self.entry(pathBytes: entry.pathBytes)
      try checkAgainstIndex(entry, located: location, indexed: indexed, table: table)
    }
    return try await read(location, path: entry.path)
  }

  /// Throws `.staleNameTable` unless the index holds `entry`'s path at `located`. A hard
  /// link without data (to a symbolic link, SPEC §6) is in no index: its empty record passes.
  func checkAgainstIndex(_ entry: NameEntry, located: CotarEntry, indexed: CotarEntry?, table: NameTable?) throws {
    if indexed == located { return }
    if indexed == nil, entry.kind == .hardLink, located.offset == 0, located.size == 0 { return }
    let tableIdentity = table?.sourceIdentity
    let named: String
    let remedy: String
    if let tableIdentity, tableIdentity != data.identity {
      named = "the name table \(tableIdentity)"
      remedy = "rebuild the index and its table with cotar index --force"
    } else {
      named = "the name table" + (tableIdentity.map { " of \($0)" } ?? "")
      remedy = "rebuild the archive with cotar create --force (or its sidecar with cotar index --force)"
    }
    let found = indexed.map { "has offset \($0.offset), size \($0.size)" } ?? "has no entry for it"
    throw CotarError(
      .staleNameTable,
      "\(named) does not match the index: the table gives offset \(located.offset), size \(located.size), the index \(found); "
        + "the table is stale (it describes another build of the tar); \(remedy)",
      offset: located.offset, path: entry.path, source: data.identity)
  }
}
