import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Cotar's temporary file names, `.NAME.cotar-tmp-X` beside the output `NAME` (X: 1 to 7 ASCII
/// letters or digits: `mkstemp`'s six characters, or a base-36 random number), and the one
/// rule for removing those a killed run left (README "Outputs"). ``AtomicFileWriter``,
/// ``SafeExtractor`` and `append`'s refusal of its own temporaries all match names here.
enum TemporaryNames {
  /// What sets a temporary name apart: `.cotar-tmp-` before the random part, so a user's own
  /// `.NAME.tmp-1` (or any name another tool makes) is never taken for cotar's and removed.
  static let marker = ".cotar-tmp-"

  /// The `mkstemp` template of a temporary file for the output `name` in `directory` (a
  /// path ending in `/`, or empty for the current directory).
  static func template(directory: String, name: String) -> String {
    "\(directory).\(name)\(marker)XXXXXX"
  }

  /// `NAME` for a name `.NAME.cotar-tmp-X`, else `nil`.
  static func entryName(ofTemporary candidate: [UInt8]) -> [UInt8]? {
    let marker = Array(Self.marker.utf8)
    guard candidate.first == 0x2E, candidate.count > marker.count + 2 else { return nil }
    let suffixStart = (candidate.lastIndex(of: 0x2D) ?? 0) + 1
    let suffix = candidate[suffixStart...]
    let isAlphanumeric = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    guard (1...7).contains(suffix.count), suffix.allSatisfy(isAlphanumeric) else { return nil }
    let markerStart = suffixStart - marker.count
    guard markerStart > 1, candidate[markerStart..<suffixStart].elementsEqual(marker) else { return nil }
    return Array(candidate[1..<markerStart])
  }

  /// The temporary names in the directory `directory` (a descriptor), by the entry name they
  /// were made for; empty when it cannot be listed.
  static func byEntryName(in directory: Int32) -> [[UInt8]: [[UInt8]]] {
    guard let names = try? Syscall.directoryEntries(in: directory) else { return [:] }
    var found: [[UInt8]: [[UInt8]]] = [:]
    for candidate in names {
      if let entry = entryName(ofTemporary: candidate) { found[entry, default: []].append(candidate) }
    }
    return found
  }

  /// Removes the temporary `candidate` in `directory` when a killed run abandoned it: a
  /// regular file or symbolic link whose status last changed at least 2 seconds ago (a
  /// writer between creating its file and locking it is never touched; `utimensat` cannot
  /// move the change time) and, for a file, that no live writer holds under its `flock`.
  static func removeIfAbandoned(_ candidate: [UInt8], in directory: Int32) {
    guard let info = try? Syscall.linkStatus(at: directory, bytes: candidate) else { return }
    let kind = info.st_mode & S_IFMT
    guard kind == S_IFREG || kind == S_IFLNK, Int64(time(nil)) - info.changeTimeSeconds >= 2 else { return }
    if kind == S_IFREG {
      guard let fd = try? Syscall.open(at: directory, bytes: candidate, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) else { return }
      defer { Syscall.close(fd) }
      guard Syscall.tryLockExclusive(fd) else { return }
    }
    try? Syscall.unlink(at: directory, bytes: candidate)
  }
}
