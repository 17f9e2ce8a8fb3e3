#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Sorting the records and writing the table.
extension NameTableBuilder {
  /// The table bytes: blocks, block index, trailer.
  ///
  /// - Throws: `CotarError` `.limitExceeded` when the block index or a block exceeds the
  ///   format's 32-bit fields, `.io` when zlib fails.
  public func build() throws(CotarError) -> [UInt8] {
    let order = sortedOrder()
    var output: [UInt8] = []
    var index: [UInt8] = []
    var blockCount: UInt32 = 0
    var start = 0
    while start < order.count {
      var encoder = NameTableBlock.Encoder()
      var end = start
      while end < order.count && (end == start || encoder.rawBytes < options.targetBlockBytes) {
        append(records[order[end]], to: &encoder)
        end += 1
      }
      let first = path(of: records[order[start]])
      guard encoder.rawBytes <= NameTableFormat.maximumBlockBytes else {
        throw CotarError(
          .limitExceeded, "a name-table record is larger than \(NameTableFormat.maximumBlockBytes) bytes",
          path: String(decoding: first, as: UTF8.self))
      }
      let block = try encoder.finish(compress: options.compress)
      guard let firstLength = UInt32(exactly: first.count), let blockLength = UInt32(exactly: block.count) else {
        throw CotarError(.limitExceeded, "name-table block too large", path: String(decoding: first, as: UTF8.self))
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
      entryCount: UInt64(order.count), blocksLength: UInt64(output.count), indexLength: indexLength,
      blockCount: blockCount, indexCRC: CRC32.checksum(index))
    return output + index + trailer.bytes
  }

  /// The path bytes of `record`.
  private func path(of record: Record) -> ArraySlice<UInt8> {
    bytes[record.pathStart..<(record.pathStart + record.pathCount)]
  }

  /// Appends `record` to the block being encoded.
  private func append(_ record: Record, to encoder: inout NameTableBlock.Encoder) {
    bytes.withUnsafeBufferPointer { arena in
      encoder.append(
        path: UnsafeBufferPointer(rebasing: arena[record.pathStart..<(record.pathStart + record.pathCount)]),
        kind: record.kind, size: record.size, dataOffset: record.dataOffset, mode: record.mode, mtime: record.mtime,
        link: UnsafeBufferPointer(rebasing: arena[record.linkStart..<(record.linkStart + record.linkCount)]))
    }
  }

  /// The entries added so far, sorted by path bytes.
  public func sortedEntries() -> [NameEntry] {
    sortedOrder().map { position in
      let record = records[position]
      return NameEntry(
        pathBytes: Array(path(of: record)), kind: record.kind, size: record.size, dataOffset: record.dataOffset,
        mode: record.mode, mtime: record.mtime,
        linkTargetBytes: record.hasLink ? Array(bytes[record.linkStart..<(record.linkStart + record.linkCount)]) : nil)
    }
  }

  /// The positions of the records in path order; a tar written in sorted order is not sorted again.
  ///
  /// Every path starts with the prefix all of them share (often a top directory), so records
  /// are sorted by the eight bytes after it as a big-endian number, and only paths that also
  /// share those are compared with `memcmp`: the key order agrees with the byte order (a
  /// shorter path is padded with zeros, and a proper prefix sorts first).
  func sortedOrder() -> [Int] {
    bytes.withUnsafeBufferPointer { arena in
      records.withUnsafeBufferPointer { records in
        func path(_ index: Int) -> UnsafeBufferPointer<UInt8> {
          let record = records[index]
          return UnsafeBufferPointer(rebasing: arena[record.pathStart..<(record.pathStart + record.pathCount)])
        }
        if records.indices.dropFirst().allSatisfy({ Self.precedes(path($0 - 1), path($0)) }) {
          return Array(records.indices)
        }
        let shared = Self.commonPrefixLength(records.indices.lazy.map(path))
        var keyed = records.indices.map { (key: Self.key(path($0), from: shared), position: $0) }
        keyed.sort { $0.key != $1.key ? $0.key < $1.key : Self.precedes(path($0.position), path($1.position)) }
        return keyed.map(\.position)
      }
    }
  }

  /// The length of the longest prefix all `paths` share.
  private static func commonPrefixLength<Paths: Collection<UnsafeBufferPointer<UInt8>>>(_ paths: Paths) -> Int {
    guard let first = paths.first else { return 0 }
    var length = first.count
    for path in paths.dropFirst() {
      guard length > 0 else { break }
      var index = 0
      let limit = min(length, path.count)
      while index < limit && path[index] == first[index] { index += 1 }
      length = index
    }
    return length
  }

  /// The eight bytes of `path` from `start` as a big-endian number, zero padded.
  @inline(__always)
  private static func key(_ path: UnsafeBufferPointer<UInt8>, from start: Int) -> UInt64 {
    var key: UInt64 = 0
    for index in start..<(start + 8) { key = key << 8 | UInt64(index < path.count ? path[index] : 0) }
    return key
  }

  /// Whether path `a` sorts before `b` bytewise (a proper prefix sorts first).
  static func precedes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    let common = min(a.count, b.count)
    if common > 0, let left = a.baseAddress, let right = b.baseAddress {
      let order = memcmp(left, right, common)
      if order != 0 { return order < 0 }
    }
    return a.count < b.count
  }
}
