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
  var entriesByPath: [[UInt8]: NameEntry] = [:]
  /// Data offset and size of the latest file (or resolved hard link) per path, for hard links.
  private var dataByPath: [[UInt8]: (offset: UInt64, size: UInt64)] = [:]

  /// Creates an empty builder.
  public init(options: Options = Options()) { self.options = options }

  /// Number of distinct paths so far.
  public var count: Int { entriesByPath.count }

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
      dataByPath[member.pathBytes] = (member.dataOffset, member.size)
    case .hardLink:
      if let target = dataByPath[member.linkTargetBytes ?? []] {
        entry.dataOffset = target.offset
        entry.size = target.size
        dataByPath[member.pathBytes] = target
      } else {
        entry.size = 0
        dataByPath[member.pathBytes] = nil
      }
    default:
      entry.size = kind == .other ? member.size : 0
      dataByPath[member.pathBytes] = nil
    }
    entriesByPath[member.pathBytes] = entry
  }

  /// Adds an entry as it is (for rebuilding a table from another table).
  public mutating func add(_ entry: NameEntry) {
    entriesByPath[entry.pathBytes] = entry
    if entry.kind.hasData { dataByPath[entry.pathBytes] = (entry.dataOffset, entry.size) } else { dataByPath[entry.pathBytes] = nil }
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
