import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

extension SafeExtractor {
  /// Removes, in the directory `parent`, the temporary files and links that an interrupted
  /// run left for the entry `name` (README "Outputs"): names `.NAME.tmp-X`, where `NAME` is
  /// `name` cut to 200 bytes (as ``temporaryName(for:)`` makes them) and `X` is 1 to 7 ASCII
  /// letters or digits (Cotar's own suffixes: a base-36 random number, or `mkstemp`'s six
  /// characters). Only a regular file or symbolic link is removed, only when its status
  /// last changed at least 2 seconds ago, and for a file only when no live writer holds its
  /// `flock` (every writer holds one on its temporary file), so a concurrent run's
  /// temporary file is never touched. The directory is listed once, the first time an entry
  /// is written in it; nothing else in it is ever removed.
  func removeLeftoverTemporaries(of name: [UInt8], in parent: Int32) {
    if leftovers[parent] == nil { leftovers[parent] = Self.temporaryNames(in: parent) }
    guard let names = leftovers[parent]?.removeValue(forKey: Array(name.prefix(200))) else { return }
    for candidate in names { Self.removeIfAbandoned(candidate, in: parent) }
  }

  /// The names in `parent` that look like Cotar temporary names, by the entry name they
  /// were made for.
  static func temporaryNames(in parent: Int32) -> [[UInt8]: [[UInt8]]] {
    guard let names = try? Syscall.directoryEntries(in: parent) else { return [:] }
    var found: [[UInt8]: [[UInt8]]] = [:]
    for candidate in names {
      if let entry = entryName(ofTemporary: candidate) { found[entry, default: []].append(candidate) }
    }
    return found
  }

  /// `NAME` for a name `.NAME.tmp-X` (X: 1 to 7 ASCII letters or digits), else `nil`.
  static func entryName(ofTemporary candidate: [UInt8]) -> [UInt8]? {
    let marker = Array(".tmp-".utf8)
    guard candidate.first == 0x2E, candidate.count > marker.count + 2 else { return nil }
    let suffixLength = (candidate.lastIndex(of: 0x2D) ?? 0) + 1
    let suffix = candidate[suffixLength...]
    let isAlphanumeric = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    guard (1...7).contains(suffix.count), suffix.allSatisfy(isAlphanumeric) else { return nil }
    let markerStart = suffixLength - marker.count
    guard markerStart > 1, candidate[markerStart..<suffixLength].elementsEqual(marker) else { return nil }
    return Array(candidate[1..<markerStart])
  }

  /// Removes `candidate` in `parent` when it is an abandoned temporary file or link (see
  /// ``removeLeftoverTemporaries(of:in:)``).
  static func removeIfAbandoned(_ candidate: [UInt8], in parent: Int32) {
    guard let info = try? Syscall.linkStatus(at: parent, bytes: candidate) else { return }
    let kind = info.st_mode & S_IFMT
    guard kind == S_IFREG || kind == S_IFLNK, Int64(time(nil)) - info.changeTimeSeconds >= 2 else { return }
    if kind == S_IFREG {
      guard let fd = try? Syscall.open(at: parent, bytes: candidate, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) else { return }
      defer { Syscall.close(fd) }
      guard Syscall.tryLockExclusive(fd) else { return }
    }
    try? Syscall.unlink(at: parent, bytes: candidate)
  }
}
