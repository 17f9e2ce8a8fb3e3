import CotarCore

/// The file names of an archive, sorted, in one compact byte buffer, for directory listings.
///
/// Each path is stored once with its leading `/` and `./` removed (linz/cotar lists `a` and
/// `/a` both as `/a`; `/v1/file/a` finds all three forms); directories are implied by the paths, not stored. Memory is the
/// path bytes plus four bytes per path: about 36 MB for a million 32-byte paths (plus eight
/// per path when modification times are kept, see ``modificationTime(of:)``). Listing a
/// directory binary-searches the sorted paths, so its cost is proportional to its children
/// (a sub-directory is skipped as a whole), not to the archive.
public struct ArchiveListing: Sendable {
  /// All paths, concatenated in sorted order.
  private let bytes: [UInt8]
  /// End offset in `bytes` of each path; path `i` starts where path `i - 1` ends.
  private let ends: [UInt32]
  /// The modification time of each path (seconds since 1970), or empty when not known.
  private let mtimes: [Int64]

  /// The number of distinct paths.
  public var count: Int { ends.count }

  /// Builds a listing from entry paths in any order; duplicates are kept once.
  ///
  /// Already sorted input (the common case for tars made by `cotar` or sorted `tar`) skips
  /// the sort.
  /// - Throws: `CotarError` `.limitExceeded` when the paths exceed 4 GiB in total.
  public init(paths: some Sequence<[UInt8]>) throws {
    var collector = Collector()
    for path in paths { try collector.append(path, mtime: nil) }
    self = collector.finish()
  }

  /// Builds a listing from entry paths with their modification times (seconds since 1970),
  /// in any order; of duplicate paths the last one's time is kept (as the index keeps the
  /// last entry).
  ///
  /// - Throws: `CotarError` `.limitExceeded` when the paths exceed 4 GiB in total.
  public init(entries: some Sequence<(path: [UInt8], mtime: Int64)>) throws {
    var collector = Collector()
    for entry in entries { try collector.append(entry.path, mtime: entry.mtime) }
    self = collector.finish()
  }

  /// Reads the member names and modification times from the tar headers of `source` (regular
  /// files and hard links, as indexed), up to `limit` bytes when the tar is followed by an index.
  ///
  /// - Throws: `CotarError` from ``TarScanner`` (`.invalidTar`, `.truncated`, `.io`).
  public static func scan(tar source: any RangeSource, limit: UInt64? = nil) async throws -> ArchiveListing {
    var collector = Collector()
    let scanned: any RangeSource = if let limit { PrefixSource(source, length: limit) } else { source }
    _ = try await TarScanner(source: scanned).scan { entry in
      if entry.kind.isIndexed { try collector.append(entry.pathBytes, mtime: entry.mtime) }
    }
    return collector.finish()
  }

  private init(bytes: [UInt8], ends: [UInt32], mtimes: [Int64]) {
    self.bytes = bytes
    self.ends = ends
    self.mtimes = mtimes
  }

  /// Whether the listing knows modification times (from the name table or the tar headers).
  public var hasModificationTimes: Bool { !mtimes.isEmpty }

  /// The modification time (seconds since 1970) of the file `path` (with or without a
  /// leading `/` or `./`), or `nil` when the listing has no times or no such file. A binary
  /// search: O(log n).
  public func modificationTime(of path: [UInt8]) -> Int64? {
    guard !mtimes.isEmpty else { return nil }
    let key = Array(Self.withoutLeadingRoot(path))
    let found = partition(from: 0, to: count) { compare($0, key) >= 0 }
    guard found < count, compare(found, key) == 0 else { return nil }
    return mtimes[found]
  }

  /// The children of `directory` (given with or without leading and trailing `/`; empty for
  /// the root), or `nil` when no path lies under it. The root always exists.
  ///
  /// - Parameter recursive: list every file below the directory (no directory children)
  ///   instead of its immediate children.
  public func directory(_ directory: some Collection<UInt8>, recursive: Bool = false) -> Directory? {
    var prefix = Array(directory.drop(while: { $0 == UInt8(ascii: "/") }))
    while prefix.last == UInt8(ascii: "/") { prefix.removeLast() }
    if !prefix.isEmpty { prefix.append(UInt8(ascii: "/")) }
    let lower = partition(from: 0, to: count) { compare($0, prefix) >= 0 }
    let upper = partition(from: lower, to: count) { !hasPrefix($0, prefix) }
    if lower == upper, !prefix.isEmpty { return nil }
    return Directory(listing: self, prefix: prefix, lower: lower, upper: upper, recursive: recursive)
  }

  /// One child of a directory.
  public enum Child: Hashable, Sendable {
    /// A file; the full path without a leading `/`.
    case file([UInt8])
    /// A sub-directory; the full path without a leading `/`, ending in `/`.
    case directory([UInt8])
  }

  /// The children of one directory, in sorted order; a lazy sequence.
  public struct Directory: Sequence, Sendable {
    let listing: ArchiveListing
    /// The directory path with a trailing `/`, or empty for the root.
    public let prefix: [UInt8]
    let lower: Int
    let upper: Int
    /// Whether every file below is listed (rather than immediate children).
    public let recursive: Bool

    /// Makes an iterator over the children.
    public func makeIterator() -> Iterator { Iterator(directory: self, position: lower) }

    /// Iterates over the children of a directory.
    public struct Iterator: IteratorProtocol {
      let directory: Directory
      var position: Int

      /// The next child, or `nil` at the end.
      public mutating func next() -> Child? {
        guard position < directory.upper else { return nil }
        let listing = directory.listing
        let range = listing.range(of: position)
        let restStart = range.lowerBound + directory.prefix.count
        if !directory.recursive, let slash = listing.bytes[restStart..<range.upperBound].firstIndex(of: UInt8(ascii: "/")) {
          let subPrefix = Array(listing.bytes[range.lowerBound...slash])
          position = listing.partition(from: position, to: directory.upper) { !listing.hasPrefix($0, subPrefix) }
          return .directory(subPrefix)
        }
        position += 1
        return .file(Array(listing.bytes[range]))
      }
    }
  }

  // MARK: Storage helpers

  private func range(of index: Int) -> Range<Int> {
    (index == 0 ? 0 : Int(ends[index - 1]))..<Int(ends[index])
  }

  /// Three-way byte comparison of path `index` with `other`.
  private func compare(_ index: Int, _ other: [UInt8]) -> Int {
    let range = range(of: index)
    return bytes.withUnsafeBufferPointer { all in
      other.withUnsafeBufferPointer { rhs in
        Self.compare(UnsafeBufferPointer(rebasing: all[range]), rhs)
      }
    }
  }

  private func hasPrefix(_ index: Int, _ prefix: [UInt8]) -> Bool {
    let range = range(of: index)
    guard range.count >= prefix.count else { return false }
    return bytes.withUnsafeBufferPointer { all in
      prefix.withUnsafeBufferPointer { rhs in
        Self.compare(UnsafeBufferPointer(rebasing: all[range.lowerBound..<(range.lowerBound + prefix.count)]), rhs) == 0
      }
    }
  }

  /// The first index in `from..<to` where `predicate` turns true (it must be monotonic).
  private func partition(from: Int, to: Int, _ predicate: (Int) -> Bool) -> Int {
    var low = from
    var high = to
    while low < high {
      let middle = low + (high - low) / 2
      if predicate(middle) { high = middle } else { low = middle + 1 }
    }
    return low
  }

  /// `path` without leading `/` and `./` (so `/a`, `./a` and `a` are listed as `a`).
  static func withoutLeadingRoot(_ path: [UInt8]) -> ArraySlice<UInt8> {
    var rest = path[...]
    while true {
      if rest.first == UInt8(ascii: "/") {
        rest = rest.dropFirst()
      } else if rest.starts(with: [UInt8(ascii: "."), UInt8(ascii: "/")]) {
        rest = rest.dropFirst(2)
      } else {
        return rest
      }
    }
  }

  /// Three-way byte comparison of two paths (the listing's order).
  static func compare(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
    lhs.withUnsafeBufferPointer { left in rhs.withUnsafeBufferPointer { right in compare(left, right) } }
  }

  static func compare(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Int {
    let common = min(lhs.count, rhs.count)
    if common > 0, let left = lhs.baseAddress, let right = rhs.baseAddress {
      for offset in 0..<common where left[offset] != right[offset] {
        return left[offset] < right[offset] ? -1 : 1
      }
    }
    return lhs.count == rhs.count ? 0 : (lhs.count < rhs.count ? -1 : 1)
  }

  /// Accumulates paths, then sorts and de-duplicates them once.
  private struct Collector {
    var bytes: [UInt8] = []
    var ends: [UInt32] = []
    /// Kept in step with `ends` while every path came with a time; emptied at the first
    /// path without one.
    var mtimes: [Int64] = []
    var timed = true
    var sorted = true
    var lastStart = 0

    mutating func append(_ path: [UInt8], mtime: Int64?) throws {
      let trimmed = ArchiveListing.withoutLeadingRoot(path)
      guard !trimmed.isEmpty, trimmed.last != UInt8(ascii: "/") else { return }
      let start = bytes.count
      bytes.append(contentsOf: trimmed)
      guard let end = UInt32(exactly: bytes.count) else {
        throw CotarError(.limitExceeded, "the paths of this archive exceed 4 GiB; serve it with --no-list")
      }
      if sorted, !ends.isEmpty {
        let order = bytes.withUnsafeBufferPointer { all in
          ArchiveListing.compare(
            UnsafeBufferPointer(rebasing: all[lastStart..<start]), UnsafeBufferPointer(rebasing: all[start...]))
        }
        if order == 0 {  // an adjacent duplicate: the later entry's time wins
          bytes.removeSubrange(start...)
          if timed, let mtime { mtimes[mtimes.count - 1] = mtime }
          return
        }
        if order > 0 { sorted = false }
      }
      ends.append(end)
      if timed, let mtime {
        mtimes.append(mtime)
      } else if timed {
        timed = false
        mtimes = []
      }
      lastStart = start
    }

    func finish() -> ArchiveListing {
      if sorted { return ArchiveListing(bytes: bytes, ends: ends, mtimes: mtimes) }
      let source = bytes
      let sourceEnds = ends
      func range(_ index: Int) -> Range<Int> { (index == 0 ? 0 : Int(sourceEnds[index - 1]))..<Int(sourceEnds[index]) }
      var order = Array(0..<sourceEnds.count)
      // Equal paths stay in archive order, so the last of them gives the time.
      source.withUnsafeBufferPointer { all in
        order.sort {
          let order = ArchiveListing.compare(UnsafeBufferPointer(rebasing: all[range($0)]), UnsafeBufferPointer(rebasing: all[range($1)]))
          return order != 0 ? order < 0 : $0 < $1
        }
      }
      var sortedBytes: [UInt8] = []
      sortedBytes.reserveCapacity(source.count)
      var sortedEnds: [UInt32] = []
      sortedEnds.reserveCapacity(order.count)
      var sortedTimes: [Int64] = []
      sortedTimes.reserveCapacity(mtimes.count)
      var previous: Range<Int>?
      for index in order {
        let current = range(index)
        if let previous, source[previous] == source[current] {
          if !mtimes.isEmpty { sortedTimes[sortedTimes.count - 1] = mtimes[index] }
          continue
        }
        sortedBytes.append(contentsOf: source[current])
        sortedEnds.append(UInt32(truncatingIfNeeded: sortedBytes.count))
        if !mtimes.isEmpty { sortedTimes.append(mtimes[index]) }
        previous = current
      }
      return ArchiveListing(bytes: sortedBytes, ends: sortedEnds, mtimes: sortedTimes)
    }
  }
}
