/// One block of the name table (SPEC §12.3–§12.4): records stored column by column, each
/// column compressed on its own, so that alike values (paths, sizes, offsets, times) sit
/// together for zlib.
enum NameTableBlock {
  /// The columns of a block, in stored order (SPEC §12.4).
  enum Column: Int, CaseIterable {
    case shared, suffix, kind, size, offset, mode, mtime, link
  }

  /// Columns being filled for one block, and what each record is coded against.
  struct Encoder {
    var columns = [[UInt8]](repeating: [], count: Column.allCases.count)
    var records = 0
    var previousPath: [UInt8] = []
    var predictedBlock: UInt64 = 0
    var previousMtime: [Int64] = [0, 0]

    /// Bytes of all columns before compression.
    var rawBytes: Int { columns.reduce(0) { $0 + $1.count } }

    /// Appends one record to the columns: its path, kind, size, data offset, mode, mtime and
    /// link target (written for kinds that have one).
    mutating func append(
      path: UnsafeBufferPointer<UInt8>, kind: NameEntry.Kind, size: UInt64, dataOffset: UInt64, mode: UInt32,
      mtime: Int64, link: UnsafeBufferPointer<UInt8>
    ) {
      var shared = 0
      let limit = min(path.count, previousPath.count)
      while shared < limit && path[shared] == previousPath[shared] { shared += 1 }
      Varint.append(UInt64(shared), to: &columns[Column.shared.rawValue])
      Varint.append(UInt64(path.count - shared), to: &columns[Column.suffix.rawValue])
      columns[Column.suffix.rawValue] += path[shared...]
      columns[Column.kind.rawValue].append(kind.rawValue)
      if kind.hasSize { Varint.append(size, to: &columns[Column.size.rawValue]) }
      if kind.hasData {
        // In 512-byte blocks, against where the previous data would end if the next header
        // followed it (tar order equal to path order then costs one byte per record).
        let block = dataOffset / 512
        Varint.appendSigned(Int64(bitPattern: block &- predictedBlock), to: &columns[Column.offset.rawValue])
        predictedBlock = NameTableBlock.prediction(after: block, size: size)
      }
      Varint.append(UInt64(mode), to: &columns[Column.mode.rawValue])
      let timeClass = kind == .directory ? 1 : 0
      Varint.appendSigned(mtime &- previousMtime[timeClass], to: &columns[Column.mtime.rawValue])
      previousMtime[timeClass] = mtime
      if kind.hasLink {
        Varint.append(UInt64(link.count), to: &columns[Column.link.rawValue])
        columns[Column.link.rawValue] += link
      }
      // Reuses the array's storage: no allocation per record.
      previousPath.removeAll(keepingCapacity: true)
      previousPath += path
      records += 1
    }

    /// The stored block: CRC-32 of the raw columns, then each column (method, raw length,
    /// stored length, bytes), zlib-compressed when that is smaller and `compress` is set.
    ///
    /// - Throws: `CotarError` `.io` when zlib fails.
    func finish(compress: Bool) throws(CotarError) -> [UInt8] {
      var crc: UInt32 = 0
      for column in columns { crc = CRC32.checksum(column, continuing: crc) }
      var block: [UInt8] = []
      block.appendUInt32LE(crc)
      for column in columns {
        let packed = compress && !column.isEmpty ? try Deflate.compress(column) : column
        let useZlib = compress && packed.count < column.count
        block.append(useZlib ? NameTableFormat.methodZlib : NameTableFormat.methodStored)
        Varint.append(UInt64(column.count), to: &block)
        Varint.append(UInt64(useZlib ? packed.count : column.count), to: &block)
        block += useZlib ? packed : column
      }
      return block
    }
  }

  /// The predicted 512-byte block of the next data: past this data and one header block.
  static func prediction(after block: UInt64, size: UInt64) -> UInt64 {
    block &+ size / 512 &+ (size % 512 == 0 ? 0 : 1) &+ 1
  }

  /// Decodes one stored block, checking its checksum, record count, order and that every
  /// column is used up exactly.
  ///
  /// - Throws: `CotarError` `.corruptIndex` naming the block's offset.
  static func decode(
    _ stored: ArraySlice<UInt8>, ref: NameTableBlockRef, at offset: UInt64, source: String?
  ) throws(CotarError) -> [NameEntry] {
    let corrupt = { (message: String) in
      CotarError(.corruptIndex, "name table block at \(offset): \(message)", offset: offset, source: source)
    }
    var head = ByteCursor(bytes: Array(stored)) { _ in corrupt("block header or column is cut short") }
    let crcBytes = try head.take(4)
    let expectedCRC = UInt32(crcBytes[crcBytes.startIndex]) | UInt32(crcBytes[crcBytes.startIndex + 1]) << 8
      | UInt32(crcBytes[crcBytes.startIndex + 2]) << 16 | UInt32(crcBytes[crcBytes.startIndex + 3]) << 24
    var columns: [[UInt8]] = []
    var total = 0
    var crc: UInt32 = 0
    for column in Column.allCases {
      let method = try head.byte()
      let raw = try head.length(atMost: NameTableFormat.maximumBlockBytes)
      let storedLength = try head.length(atMost: head.bytes.count)
      total += raw
      guard total <= NameTableFormat.maximumBlockBytes else {
        throw corrupt("columns hold more than \(NameTableFormat.maximumBlockBytes) bytes")
      }
      let body = try head.take(storedLength)
      let bytes: [UInt8]
      switch method {
      case NameTableFormat.methodStored:
        guard storedLength == raw else { throw corrupt("stored length of column \(column) does not match") }
        bytes = Array(body)
      case NameTableFormat.methodZlib:
        guard let inflated = Deflate.decompress(body, expected: raw) else { throw corrupt("zlib data of column \(column) is corrupt") }
        bytes = inflated
      default:
        throw corrupt("unknown method \(method) for column \(column)")
      }
      crc = CRC32.checksum(bytes, continuing: crc)
      columns.append(bytes)
    }
    guard head.atEnd else { throw corrupt("bytes after the last column") }
    guard crc == expectedCRC else { throw corrupt("checksum does not match") }
    guard columns[Column.kind.rawValue].count == Int(ref.entryCount) else {
      throw corrupt("holds \(columns[Column.kind.rawValue].count) records, the index says \(ref.entryCount)")
    }
    var cursors = columns.enumerated().map { index, bytes in
      ByteCursor(bytes: bytes) { position in
        corrupt("column \(Column(rawValue: index).map { "\($0)" } ?? "?") cut or malformed at byte \(position)")
      }
    }
    var entries: [NameEntry] = []
    entries.reserveCapacity(Int(ref.entryCount))
    var previousPath: [UInt8] = []
    var predictedBlock: UInt64 = 0
    var previousMtime: [Int64] = [0, 0]
    for _ in 0..<Int(ref.entryCount) {
      let shared = try cursors[Column.shared.rawValue].length(atMost: previousPath.count)
      let suffixLength = try cursors[Column.suffix.rawValue].length(atMost: NameTableFormat.maximumBlockBytes)
      var path = Array(previousPath[0..<shared])
      path += try cursors[Column.suffix.rawValue].take(suffixLength)
      guard let kind = NameEntry.Kind(rawValue: try cursors[Column.kind.rawValue].byte()) else { throw corrupt("unknown kind") }
      var entry = NameEntry(pathBytes: path, kind: kind, size: kind.hasSize ? try cursors[Column.size.rawValue].varint() : 0)
      if kind.hasData {
        let block = predictedBlock &+ UInt64(bitPattern: try cursors[Column.offset.rawValue].signedVarint())
        guard block <= UInt64.max / 512 else { throw corrupt("data offset overflows 64 bits") }
        entry.dataOffset = block * 512
        predictedBlock = prediction(after: block, size: entry.size)
      }
      guard let mode = UInt32(exactly: try cursors[Column.mode.rawValue].varint()) else { throw corrupt("mode does not fit 32 bits") }
      entry.mode = mode
      let timeClass = kind == .directory ? 1 : 0
      entry.mtime = previousMtime[timeClass] &+ (try cursors[Column.mtime.rawValue].signedVarint())
      previousMtime[timeClass] = entry.mtime
      if kind.hasLink {
        let length = try cursors[Column.link.rawValue].length(atMost: NameTableFormat.maximumBlockBytes)
        entry.linkTargetBytes = Array(try cursors[Column.link.rawValue].take(length))
      }
      if entries.isEmpty {
        guard path == ref.firstPath else { throw corrupt("first path differs from the block index") }
      } else if !previousPath.lexicographicallyPrecedes(path) {
        throw corrupt("paths are not in strictly increasing order")
      }
      previousPath = path
      entries.append(entry)
    }
    for (index, cursor) in cursors.enumerated() where !cursor.atEnd {
      throw corrupt("column \(Column(rawValue: index).map { "\($0)" } ?? "?") has bytes after the last record")
    }
    return entries
  }
}
