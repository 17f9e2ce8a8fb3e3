/// Queries on a name table: `stat`, `contains`, `listdir`, `walk`, `glob` (Barecat-like).
extension NameTable {
  /// One child of a directory listed by ``listdir(_:)``.
  public struct DirectoryItem: Sendable, Hashable {
    /// The child's name (one path component, no slash).
    public var name: [UInt8]
    /// The child's full path as listed (`prefix/name`).
    public var pathBytes: [UInt8]
    /// The member itself, when the archive has one (an implied directory has none).
    public var entry: NameEntry?
    /// Whether the child is a directory (a directory member, or a prefix of deeper paths).
    public var isDirectory: Bool
    /// du-style total: data bytes of the files (not hard links) at or below this child.
    public var totalBytes: UInt64
    /// Members at or below this child.
    public var memberCount: Int
    /// The newest mtime of the members at or below this child (its own included): what a
    /// listing shows for an implied directory, which has no member and so no mtime.
    public var newestMtime: Int64 = .min

    /// The name as text.
    public var nameText: String { String(decoding: name, as: UTF8.self) }
  }

  /// Whether any member's path starts with `prefix` (for `prefix` = `dir/`: whether `dir` is
  /// a directory, with or without a member of its own). Reads at most one block: the first
  /// path at or after `prefix` is in the block that can hold `prefix`, or is the next block's
  /// first path, which the block index holds.
  ///
  /// - Throws: as ``entries(from:before:)``.
  public func hasEntry(withPrefix prefix: [UInt8]) async throws -> Bool {
    guard case .stored(_, _, let blocks) = backing else { return try await !entries(withPrefix: prefix).isEmpty }
    guard !blocks.isEmpty else { return false }
    let holder = max(0, Self.partition(blocks.count) { prefix.lexicographicallyPrecedes(blocks[$0].firstPath) } - 1)
    let next = holder + 1 < blocks.count ? blocks[holder + 1].firstPath : nil
    if let next, next.starts(with: prefix) { return true }
    var found = false
    try await forEachBlock(from: prefix, before: next) { block in
      if block.contains(where: { $0.pathBytes.starts(with: prefix) }) { found = true }
    }
    return found
  }

  /// The smallest byte string greater than every string that starts with `prefix`
  /// (`nil`: no bound, the prefix is empty or all 0xFF).
  static func upperBound(ofPrefix prefix: [UInt8]) -> [UInt8]? {
    var bound = prefix
    while let last = bound.last {
      if last < 0xFF {
        bound[bound.count - 1] = last + 1
        return bound
      }
      bound.removeLast()
    }
    return nil
  }

  /// Entries whose path is in `[lower, upper)` (`upper` `nil`: no bound), in path order.
  ///
  /// - Throws: `CotarError` `.corruptIndex` for a damaged block, or errors of the source.
  public func entries(from lower: [UInt8], before upper: [UInt8]?) async throws -> [NameEntry] {
    var result: [NameEntry] = []
    try await forEachBlock(from: lower, before: upper) { block in
      for entry in block where Self.inRange(entry.pathBytes, lower, upper) { result.append(entry) }
    }
    return result
  }

  /// Entries whose path starts with `prefix` (all of them for an empty prefix).
  ///
  /// - Throws: as ``entries(from:before:)``.
  public func entries(withPrefix prefix: [UInt8]) async throws -> [NameEntry] {
    try await entries(from: prefix, before: Self.upperBound(ofPrefix: prefix))
  }

  static func inRange(_ path: [UInt8], _ lower: [UInt8], _ upper: [UInt8]?) -> Bool {
    !path.lexicographicallyPrecedes(lower) && (upper.map { path.lexicographicallyPrecedes($0) } ?? true)
  }

  /// Calls `body` with the decoded blocks that can hold paths in `[lower, upper)`, in order;
  /// runs of consecutive stored blocks are fetched with one read each (at most 4 MiB).
  func forEachBlock(
    from lower: [UInt8], before upper: [UInt8]?, _ body: ([NameEntry]) async throws -> Void
  ) async throws {
    switch backing {
    case .memory(let entries):
      let first = Self.partition(entries.count) { !entries[$0].pathBytes.lexicographicallyPrecedes(lower) }
      let end = upper.map { upper in Self.partition(entries.count) { !entries[$0].pathBytes.lexicographicallyPrecedes(upper) } }
      try await body(Array(entries[first..<max(first, end ?? entries.count)]))
    case .stored(let source, let start, let blocks):
      guard !blocks.isEmpty else { return }
      // The last block whose first path ≤ lower, through the last whose first path < upper.
      let firstBlock = max(0, Self.partition(blocks.count) { lower.lexicographicallyPrecedes(blocks[$0].firstPath) } - 1)
      let endBlock = upper.map { upper in Self.partition(blocks.count) { !blocks[$0].firstPath.lexicographicallyPrecedes(upper) } } ?? blocks.count
      var index = firstBlock
      while index < endBlock {
        // A block decoded by an earlier query is not read again.
        if let held = memo.block(index) {
          try await body(held)
          index += 1
          continue
        }
        var runEnd = index + 1
        var runBytes = UInt64(blocks[index].length)
        while runEnd < endBlock, memo.block(runEnd) == nil, runBytes + UInt64(blocks[runEnd].length) <= 4 << 20 {
          runBytes += UInt64(blocks[runEnd].length)
          runEnd += 1
        }
        let runStart = start + blocks[index].offset
        let bytes = try await source.read(runStart..<(runStart + runBytes))
        for block in index..<runEnd {
          let position = Int(blocks[block].offset - blocks[index].offset)
          let stored = bytes[position..<(position + Int(blocks[block].length))]
          let decoded = try Self.decode(block: stored, ref: blocks[block], at: start + blocks[block].offset, source: source)
          memo.keep(decoded, at: block)
          try await body(decoded)
        }
        index = runEnd
      }
    }
  }

  /// The first index in `0..<count` for which `isAfter` holds (it must be monotonic).
  static func partition(_ count: Int, _ isAfter: (Int) -> Bool) -> Int {
    var low = 0
    var high = count
    while low < high {
      let middle = (low + high) / 2
      if isAfter(middle) { high = middle } else { low = middle + 1 }
    }
    return low
  }

  /// Decodes one stored block (SPEC §12.3–§12.4), checking its checksum, record count and order.
  static func decode(
    block stored: ArraySlice<UInt8>, ref: NameTableBlockRef, at offset: UInt64, source: any RangeSource
  ) throws(CotarError) -> [NameEntry] {
    try NameTableBlock.decode(stored, ref: ref, at: offset, source: source.identity)
  }

  /// The member with exactly these path bytes, or `nil`.
  ///
  /// - Throws: as ``entries(from:before:)``.
  public func stat(pathBytes: [UInt8]) async throws -> NameEntry? {
    var upper = pathBytes
    upper.append(0)
    return try await entries(from: pathBytes, before: upper).first
  }

  /// The member at `path`, or `nil`.
  ///
  /// - Throws: as ``entries(from:before:)``.
  public func stat(_ path: String) async throws -> NameEntry? { try await stat(pathBytes: Array(path.utf8)) }

  /// Whether the archive has a member at `path`, or members below it (a directory).
  ///
  /// - Throws: as ``entries(from:before:)``.
  public func contains(_ path: String) async throws -> Bool {
    let bytes = Array(path.utf8)
    if try await stat(pathBytes: bytes) != nil { return true }
    let directory = Self.directoryPrefix(bytes)
    guard !directory.isEmpty else { return count > 0 }
    var upper = directory
    upper.append(0)
    var found = false
    try await forEachBlock(from: directory, before: Self.upperBound(ofPrefix: directory)) { block in
      if block.contains(where: { $0.pathBytes.starts(with: directory) }) { found = true }
    }
    return found
  }

  /// `path` with trailing slashes removed and one slash added (`""` for the root): the
  /// prefix shared by everything below directory `path`.
  public static func directoryPrefix(_ path: [UInt8]) -> [UInt8] {
    var trimmed = path[...]
    while trimmed.last == 0x2F { trimmed = trimmed.dropLast() }
    return trimmed.isEmpty ? [] : Array(trimmed) + [0x2F]
  }

  /// The children of directory `path` (`""` for the top level), sorted by name: members
  /// directly in it, and directories implied by deeper paths, each with a du-style total.
  ///
  /// - Throws: as ``entries(from:before:)``.
  public func listdir(_ path: String) async throws -> [DirectoryItem] { try await listdir(pathBytes: Array(path.utf8)) }

  /// ``listdir(_:)`` for raw path bytes.
  ///
  /// - Throws: as ``entries(from:before:)``.
  public func listdir(pathBytes: [UInt8]) async throws -> [DirectoryItem] {
    let directory = Self.directoryPrefix(pathBytes)
    var items: [[UInt8]: DirectoryItem] = [:]
    for entry in try await entries(withPrefix: directory) {
      var rest = entry.pathBytes[directory.count...]
      while rest.last == 0x2F { rest = rest.dropLast() }
      guard !rest.isEmpty else { continue }
      let slash = rest.firstIndex(of: 0x2F)
      let name = Array(rest[..<(slash ?? rest.endIndex)])
      var item =
        items[name]
        ?? DirectoryItem(
          name: name, pathBytes: directory + name, entry: nil, isDirectory: false, totalBytes: 0, memberCount: 0)
      if slash == nil {
        item.entry = entry
        if entry.kind == .directory { item.isDirectory = true }
      } else {
        item.isDirectory = true
      }
      if entry.kind == .file { item.totalBytes += entry.size }
      item.newestMtime = max(item.newestMtime, entry.mtime)
      item.memberCount += 1
      items[name] = item
    }
    return items.values.sorted { $0.name.lexicographicallyPrecedes($1.name) }
  }

  /// Every member at or below directory `path` (`""`: the whole archive), in path order,
  /// decoding one block at a time.
  public func walk(_ path: String = "") -> AsyncThrowingStream<NameEntry, any Error> {
    let prefix = Self.directoryPrefix(Array(path.utf8))
    let table = self
    return AsyncThrowingStream { continuation in
      let task = Task {
        do {
          try await table.forEachBlock(from: prefix, before: Self.upperBound(ofPrefix: prefix)) { block in
            for entry in block where entry.pathBytes.starts(with: prefix) {
              try Task.checkCancellation()
              continuation.yield(entry)
            }
          }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// Members whose path matches `pattern` (`*`, `?`, `[…]`, `**`; see ``GlobPattern``),
  /// reading only the blocks of the pattern's literal prefix.
  ///
  /// - Throws: as ``entries(from:before:)``.
  public func glob(_ pattern: String) async throws -> [NameEntry] {
    let compiled = GlobPattern(pattern)
    return try await entries(withPrefix: compiled.literalPrefix).filter { compiled.matches($0.pathBytes) }
  }
}
