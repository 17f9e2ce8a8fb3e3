/// Builds a name table (SPEC §12) from the members of a tar, fed in archive order.
///
/// Keeps one ``NameEntry`` per distinct path (the last occurrence wins, as in the index);
/// ``build()`` sorts them by path bytes and writes the blocks, block index and trailer.
public struct NameTableBuilder: Sendable {
  /// Build options.
  public struct Options: Sendable, Hashable {
    /// A block is closed once its uncompressed records reach this many bytes.
    public var targetBlockBytes = NameTableFormat.targetBlockBytes
    /// Compress blocks with zlib (method 1); otherwise store them (method 0).
    public var compress = true

    /// Creates options with the defaults (64 KiB blocks, zlib).
    public init(targetBlockBytes: Int = NameTableFormat.targetBlockBytes, compress: Bool = true) {
      self.targetBlockBytes = max(1, targetBlockBytes)
      self.compress = compress
    }
  }

  /// The options in use.
  public let options: Options
  /// One entry per distinct path, in the order each path first appeared.
  private(set) var entries: [NameEntry] = []
  /// Where each path's entry is in `entries`.
  private var positionByPath: [PathKey: Int] = [:]

  /// A path as a dictionary key, hashed as one run of bytes (`[UInt8]`'s own hashing feeds
  /// the hasher one element at a time, the largest cost of a build with a name table).
  struct PathKey: Hashable {
    let bytes: [UInt8]

    func hash(into hasher: inout Hasher) {
      bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
  }

  /// Creates an empty builder.
  public init(options: Options = Options()) { self.options = options }

  /// Number of distinct paths so far.
  public var count: Int { entries.count }

  /// Stores `entry`, replacing the entry with its path if there is one (last wins).
  private mutating func store(_ entry: NameEntry) {
    let key = PathKey(bytes: entry.pathBytes)
    if let position = positionByPath[key] {
      entries[position] = entry
    } else {
      positionByPath[key] = entries.count
      entries.append(entry)
    }
  }

  /// The data offset and size a hard link to `path` takes: those of the latest entry with
  /// that path when it is a file or a hard link (an unresolved one has 0 and 0), else `nil`.
  private func data(ofLinkTarget path: [UInt8]) -> (offset: UInt64, size: UInt64)? {
    guard let position = positionByPath[PathKey(bytes: path)] else { return nil }
    let target = entries[position]
    return target.kind.hasData ? (target.dataOffset, target.size) : nil
  }

  /// Adds a tar member; a later member with the same path replaces an earlier one.
  ///
  /// A hard link takes the data offset and size of the latest earlier member with its target
  /// path (0 and 0 when there is none, or the target has no data).
  public mutating func add(_ member: TarEntry) {
    let kind = NameEntry.Kind(member.kind)
    var entry = NameEntry(
      pathBytes: member.pathBytes, kind: kind, size: member.size, dataOffset: 0, mode: member.mode, mtime: member.mtime,
      linkTargetBytes: kind.hasLink ? (member.linkTargetBytes ?? []) : nil)
    switch kind {
    case .file:
      entry.dataOffset = member.dataOffset - member.dataOffset % 512
    case .hardLink:
      let target = data(ofLinkTarget: member.linkTargetBytes ?? [])
      entry.dataOffset = target?.offset ?? 0
      entry.size = target?.size ?? 0
    default:
      entry.size = kind == .other ? member.size : 0
    }
    store(entry)
  }

  /// Adds an entry as it is (for rebuilding a table from another table).
  public mutating func add(_ entry: NameEntry) {
    store(entry)
  }

  /// The table bytes: blocks, block index, trailer.
  ///
  /// - Throws: `CotarError` `.limitExceeded` when the block index or a block exceeds the
  ///   format's 32-bit fields, `.io` when zlib fails.
  public func build() throws(CotarError) -> [UInt8] {
    let sorted = sortedEntries()
    var output: [UInt8] = []
    var index: [UInt8] = []
    var blockCount: UInt32 = 0
    var start = 0
    while start < sorted.count {
      var encoder = NameTableBlock.Encoder()
      var end = start
      while end < sorted.count && (end == start || encoder.rawBytes < options.targetBlockBytes) {
        encoder.append(sorted[end])
        end += 1
      }
      guard encoder.rawBytes <= NameTableFormat.maximumBlockBytes else {
        throw CotarError(
          .limitExceeded, "a name-table record is larger than \(NameTableFormat.maximumBlockBytes) bytes",
          path: sorted[start].path)
      }
      let block = try encoder.finish(compress: options.compress)
      let first = sorted[start].pathBytes
      guard let firstLength = UInt32(exactly: first.count), let blockLength = UInt32(exactly: block.count) else {
        throw CotarError(.limitExceeded, "name-table block too large", path: sorted[start].path)
      }
      index += [UInt8](repeating: 0, count: 8)
      index.setUInt64LE(UInt64(output.count), at: index.count - 8)
      index.appendUInt32LE(blockLength)
      index.appendUInt32LE(UInt32(end - start))
      index.appendUInt32LE(firstLength)
      index += first
      output += block
      blockCount += 1
      start = end
    }
    guard let indexLength = UInt32(exactly: index.count) else {
      throw CotarError(.limitExceeded, "name-table block index is larger than 4 GiB")
    }
    let trailer = NameTableTrailer(
      entryCount: UInt64(sorted.count), blocksLength: UInt64(output.count), indexLength: indexLength,
      blockCount: blockCount, indexCRC: CRC32.checksum(index))
    return output + index + trailer.bytes
  }
}
