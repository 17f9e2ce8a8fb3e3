import CotarCore

extension AtomicFileWriter {
  /// Commits the file and removes `companion`, a file that describes the destination's old
  /// content (the `X.tar.names` of an older `X.tar.index`), so that the two never disagree:
  /// the companion is first renamed aside (`.NAME.cotar-tmp-XXXXXX` beside it, which a later
  /// writer of `companion` removes if this run is killed), then the file is committed, then
  /// the aside copy is removed. When the commit fails the companion is renamed back, so a
  /// failure leaves the old destination and its companion as they were.
  ///
  /// - Returns: whether there was a companion to remove.
  /// - Throws: `CotarError` `.io` when the companion cannot be renamed aside (nothing is
  ///   changed then), or as ``commit()``.
  public func commit(removing companion: String) throws -> Bool {
    guard (try? Syscall.linkStatus(companion)) != nil else {
      try commit()
      return false
    }
    let slash = companion.lastIndex(of: "/")
    let directory = slash.map { String(companion[...$0]) } ?? ""
    let name = slash.map { String(companion[companion.index(after: $0)...]) } ?? companion
    let aside: String
    do throws(SystemCallError) {
      let reserved = try Syscall.makeTemporaryFile(TemporaryNames.template(directory: directory, name: name))
      Syscall.close(reserved.descriptor)
      do throws(SystemCallError) {
        try Syscall.rename(companion, to: reserved.path)
      } catch {
        try? Syscall.unlink(reserved.path)
        throw error
      }
      aside = reserved.path
    } catch {
      discard()
      throw error.cotarError("cannot move the stale \(name) aside; nothing was replaced", source: companion)
    }
    do {
      try commit()
    } catch {
      try? Syscall.rename(aside, to: companion)
      throw error
    }
    try? Syscall.unlink(aside)
    return true
  }
}
