import CotarCore

extension SafeExtractor {
  /// Removes, in the directory `parent`, the temporary files and links that an interrupted
  /// run left for the entry `name` (README "Outputs"): names `.NAME.cotar-tmp-X`, where `NAME` is
  /// `name` cut to 200 bytes (as ``temporaryName(for:)`` makes them; ``TemporaryNames`` has
  /// the pattern and the rule for what is abandoned), so a concurrent run's temporary file is
  /// never touched. The directory is listed once, the first time an entry
  /// is written in it; nothing else in it is ever removed.
  func removeLeftoverTemporaries(of name: [UInt8], in parent: Int32) {
    if leftovers[parent] == nil { leftovers[parent] = TemporaryNames.byEntryName(in: parent) }
    guard let names = leftovers[parent]?.removeValue(forKey: Array(name.prefix(200))) else { return }
    for candidate in names { TemporaryNames.removeIfAbandoned(candidate, in: parent) }
  }
}
