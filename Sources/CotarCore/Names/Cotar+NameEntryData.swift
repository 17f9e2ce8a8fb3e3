extension Cotar {
  /// Where the data of a file or hard-link record of the name table is, checked against the
  /// end of the tar data (what ``read(_:)-(NameEntry)`` and `cotar extract` read).
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
}
