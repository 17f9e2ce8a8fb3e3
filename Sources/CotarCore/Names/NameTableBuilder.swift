/// Builds a name table (SPEC §12) from the members of a tar, fed in archive order.
///
/// Keeps one record per distinct path (the last occurrence wins, as in the index), with every
/// path and link target end to end in one byte array and the paths found through a hash table
/// keyed by their FNV-1a 64 hash, so adding a member allocates nothing of its own;
/// ``build()`` sorts the records by path bytes and writes the blocks, block index and trailer.
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

  /// One distinct path's entry; its path and link target are ranges of ``bytes``.
  struct Record {
    /// FNV-1a 64 of the path bytes.
    var hash: UInt64
    var pathStart = 0
    var pathCount = 0
    var linkStart = 0
    var linkCount = 0
    /// Whether the entry has a link target (``NameEntry/linkTargetBytes`` is not `nil`).
    var hasLink = false
    var kind: NameEntry.Kind
    var size: UInt64
    var dataOffset: UInt64
    var mode: UInt32
    var mtime: Int64
  }

  /// The options in use.
  public let options: Options
  /// Every record's path and link target bytes, end to end.
  var bytes: [UInt8] = []
  /// One record per distinct path, in the order each path first appeared.
  var records: [Record] = []
  /// Open-addressing hash table over ``records`` by path hash: a record's index plus one, or
  /// 0 for an empty slot; its size is a power of two, at least twice the record count.
  var slots = [Int](repeating: 0, count: 16)

  /// Creates an empty builder.
  public init(options: Options = Options()) { self.options = options }

  /// Number of distinct paths so far.
  public var count: Int { records.count }

  /// The data offset and size a hard link to `path` takes: those of the latest entry with
  /// that path when it is a file or a hard link (an unresolved one has 0 and 0), else `nil`.
  /// The path is looked up as the index builder does (``LinkTargetSpelling``): as spelled,
  /// then with `.` and empty components removed, with and without a leading `./`.
  private func data(ofLinkTarget path: [UInt8]) -> (offset: UInt64, size: UInt64)? {
    var found = path.withUnsafeBufferPointer { find($0, hash: PathHash.fnv1a64(bytes: path)).record }
    if found == nil {
      for spelling in LinkTargetSpelling.spellings(of: path).dropFirst() where found == nil {
        found = spelling.withUnsafeBufferPointer { find($0, hash: PathHash.fnv1a64(bytes: spelling)).record }
      }
    }
    guard let found else { return nil }
    let target = records[found]
    return target.kind.hasData ? (target.dataOffset, target.size) : nil
  }

  /// Adds a tar member; a later member with the same path replaces an earlier one.
  ///
  /// A hard link takes the data offset and size of the latest earlier member with its target
  /// path (0 and 0 when there is none, or the target has no data).
  public mutating func add(_ member: TarEntry) {
    let kind = NameEntry.Kind(member.kind)
    var record = Record(
      hash: PathHash.fnv1a64(bytes: member.pathBytes), kind: kind, size: member.size, dataOffset: 0,
      mode: member.mode, mtime: member.mtime)
    switch kind {
    case .file:
      record.dataOffset = member.dataOffset - member.dataOffset % 512
    case .hardLink:
      // Resolved before the member is stored: a link to its own path sees the earlier entry.
      let target = data(ofLinkTarget: member.linkTargetBytes ?? [])
      record.dataOffset = target?.offset ?? 0
      record.size = target?.size ?? 0
    default:
      record.size = kind == .other ? member.size : 0
    }
    let pathStart = bytes.count
    bytes += member.pathBytes
    store(record, pathFrom: pathStart, link: kind.hasLink ? (member.linkTargetBytes ?? []) : nil)
  }

  /// ``add(_:)`` for a member the scanner parsed in place (``TarWalker/stepPlain(_:)``), from
  /// its raw header block: the same entry ``add(_:)`` stores for the ``TarEntry`` the general
  /// scan makes of that header (a file, directory or symbolic link without extended headers).
  mutating func addPlain(_ member: TarWalker.PlainMember, header block: UnsafeRawBufferPointer) {
    let kind = NameEntry.Kind(member.kind)
    let record = Record(
      hash: member.pathHash, kind: kind, size: kind == .file ? member.size : 0,
      dataOffset: kind == .file ? member.dataOffset - member.dataOffset % 512 : 0,
      mode: TarHeader.mode(of: block), mtime: TarHeader.mtime(of: block))
    let pathStart = bytes.count
    TarHeader.appendPath(of: block, to: &bytes)
    guard kind == .symbolicLink else {
      store(record, pathFrom: pathStart, link: nil)
      return
    }
    let linkStart = bytes.count
    TarHeader.appendCString(block, 157..<257, to: &bytes)
    store(record, pathFrom: pathStart, linkFrom: linkStart)
  }

  /// Adds an entry as it is (for rebuilding a table from another table).
  public mutating func add(_ entry: NameEntry) {
    let record = Record(
      hash: PathHash.fnv1a64(bytes: entry.pathBytes), kind: entry.kind, size: entry.size,
      dataOffset: entry.dataOffset, mode: entry.mode, mtime: entry.mtime)
    let pathStart = bytes.count
    bytes += entry.pathBytes
    store(record, pathFrom: pathStart, link: entry.linkTargetBytes)
  }

  /// ``store(_:pathFrom:linkFrom:)`` with the link target `link` appended after the path.
  private mutating func store(_ record: Record, pathFrom pathStart: Int, link: [UInt8]?) {
    guard let link else {
      store(record, pathFrom: pathStart, linkFrom: nil)
      return
    }
    let linkStart = bytes.count
    bytes += link
    store(record, pathFrom: pathStart, linkFrom: linkStart)
  }

  /// Stores `record` for the path in `bytes[pathStart..<linkStart]` (or to the end when there
  /// is no link target), with the link target in `bytes[linkStart...]`, replacing the record
  /// with that path if there is one (last wins).
  private mutating func store(_ record: Record, pathFrom pathStart: Int, linkFrom linkStart: Int?) {
    var record = record
    record.pathStart = pathStart
    record.pathCount = (linkStart ?? bytes.count) - pathStart
    record.hasLink = linkStart != nil
    record.linkStart = linkStart ?? bytes.count
    record.linkCount = bytes.count - record.linkStart
    let (slot, existing) = bytes.withUnsafeBufferPointer { arena in
      find(UnsafeBufferPointer(rebasing: arena[pathStart..<(pathStart + record.pathCount)]), hash: record.hash)
    }
    if let existing {
      records[existing] = record
    } else {
      records.append(record)
      slots[slot] = records.count
      if records.count * 2 > slots.count { growSlots() }
    }
  }
}
