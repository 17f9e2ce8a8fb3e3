#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A name table (SPEC §12) opened from a source, or the same listing built by scanning a tar.
///
/// A table in a source costs, at open, one read ending at the table's end (the trailer and,
/// usually, the whole block index); each query then reads only the blocks whose path range it
/// needs, consecutive blocks in one request.
public struct NameTable: Sendable {
  enum Backing: Sendable {
    /// Blocks in `source`, starting at `start`.
    case stored(source: any RangeSource, start: UInt64, blocks: [NameTableBlockRef])
    /// Every entry in memory, sorted by path bytes (a scanned tar).
    case memory([NameEntry])
  }

  let backing: Backing
  /// Recently decoded blocks of a stored table, shared by copies of this value.
  let memo = NameTableBlockMemo()
  /// The trailer (a scanned tar gets one describing no stored bytes).
  public let trailer: NameTableTrailer

  /// Whether the listing comes from a stored table (`false`: from scanning the tar).
  public var isStored: Bool { if case .stored = backing { true } else { false } }
  /// Number of distinct paths.
  public var count: Int { Int(trailer.entryCount) }
  /// Blocks in the table (0 for a scanned tar).
  public var blockCount: Int { if case .stored(_, _, let blocks) = backing { blocks.count } else { 0 } }
  /// The block index.
  public var blocks: [NameTableBlockRef] { if case .stored(_, _, let blocks) = backing { blocks } else { [] } }
  /// Where the table starts in its source (0 for a scanned tar).
  public var startOffset: UInt64 { if case .stored(_, let start, _) = backing { start } else { 0 } }
  /// The identity of the source the table is stored in (an `X.tar.names` sidecar, or the
  /// `.tar.co` itself); `nil` for a scanned tar.
  public var sourceIdentity: String? { if case .stored(let source, _, _) = backing { source.identity } else { nil } }

  /// A listing of `entries` held in memory (duplicates: the last wins).
  public init(entries: [NameEntry]) {
    var byPath: [[UInt8]: NameEntry] = [:]
    for entry in entries { byPath[entry.pathBytes] = entry }
    let sorted = byPath.values.sorted { $0.pathBytes.lexicographicallyPrecedes($1.pathBytes) }
    backing = .memory(sorted)
    trailer = NameTableTrailer(entryCount: UInt64(sorted.count), blocksLength: 0, indexLength: 0, blockCount: 0, indexCRC: 0)
  }

  /// Builds the listing by scanning the tar in `tar` (the fallback for archives without a table).
  ///
  /// - Throws: `CotarError` from the scan (`.invalidTar`, `.truncated`).
  public static func scanning(tar: any RangeSource, options: TarScanner.Options = .init()) async throws -> NameTable {
    var builder = NameTableBuilder()
    var collected: [NameEntry] = []
    _ = try await TarScanner(source: tar, options: options).scan { builder.add($0) }
    collected = builder.sortedEntries()
    return NameTable(entries: collected)
  }

  /// Opens the table whose trailer ends at byte `end` of `source` (a `.tar.co`'s index base,
  /// or a `.tar.names` file's size), with one read of up to `speculativeBytes` ending there
  /// (and one more when the block index does not fit in it).
  ///
  /// - Returns: `nil` when there is no table (no `COTN` magic right before `end`).
  /// - Throws: `CotarError` `.corruptIndex` for a damaged table (checksums, lengths, block
  ///   index order), `.unsupportedVersion`, or errors of the source.
  public static func open(
    in source: any RangeSource, endingAt end: UInt64, speculativeBytes: Int = 64 << 10
  ) async throws -> NameTable? {
    let trailerSize = UInt64(NameTableFormat.trailerSize)
    guard end >= trailerSize else { return nil }
    let chunkStart = end - min(end, UInt64(max(speculativeBytes, NameTableFormat.trailerSize)))
    let chunk = try await source.read(chunkStart..<end)
    let trailerPosition = chunk.count - NameTableFormat.trailerSize
    let trailer: NameTableTrailer
    do {
      guard let parsed = try NameTableTrailer(parsing: chunk, at: trailerPosition, sourceOffset: end - trailerSize) else {
        return nil
      }
      trailer = parsed
    } catch {
      throw error.withSource(source.identity)
    }
    let corrupt = { (message: String, offset: UInt64) in
      CotarError(.corruptIndex, "name table: \(message)", offset: offset, source: source.identity)
    }
    guard trailer.tableLength <= end, trailer.indexLength <= NameTableFormat.maximumIndexBytes else {
      throw corrupt("the trailer claims \(trailer.tableLength) bytes, more than the \(end) bytes before it", end - trailerSize)
    }
    let start = end - trailer.tableLength
    let indexStart = end - trailerSize - UInt64(trailer.indexLength)
    let indexBytes: [UInt8] =
      if indexStart >= chunkStart {
        Array(chunk[Int(indexStart - chunkStart)..<trailerPosition])
      } else {
        try await source.read(indexStart..<(end - trailerSize))
      }
    guard CRC32.checksum(indexBytes) == trailer.indexCRC else {
      throw corrupt("block index checksum does not match", indexStart)
    }
    let blocks = try parseBlockIndex(indexBytes, trailer: trailer, at: indexStart, corrupt: corrupt)
    return NameTable(backing: .stored(source: source, start: start, blocks: blocks), trailer: trailer)
  }

  init(backing: Backing, trailer: NameTableTrailer) {
    self.backing = backing
    self.trailer = trailer
  }

  /// Parses and checks the block index: consecutive blocks covering `blocksLength`, entry
  /// counts adding up, first paths strictly increasing.
  static func parseBlockIndex(
    _ bytes: [UInt8], trailer: NameTableTrailer, at offset: UInt64, corrupt: (String, UInt64) -> CotarError
  ) throws -> [NameTableBlockRef] {
    var blocks: [NameTableBlockRef] = []
    var position = 0
    var next: UInt64 = 0
    var entries: UInt64 = 0
    while position < bytes.count {
      guard let blockOffset = bytes.getUInt64LE(at: position), let length = bytes.getUInt32LE(at: position + 8),
        let count = bytes.getUInt32LE(at: position + 12), let pathLength = bytes.getUInt32LE(at: position + 16),
        Int(pathLength) <= bytes.count - position - NameTableFormat.blockIndexEntrySize
      else { throw corrupt("block index entry \(blocks.count) is cut short", offset + UInt64(position)) }
      let pathStart = position + NameTableFormat.blockIndexEntrySize
      let first = Array(bytes[pathStart..<(pathStart + Int(pathLength))])
      guard blockOffset == next, length >= UInt32(NameTableFormat.minimumBlockBytes), count > 0 else {
        throw corrupt("block \(blocks.count) is not where the previous one ends, or is empty", offset + UInt64(position))
      }
      if let last = blocks.last, !last.firstPath.lexicographicallyPrecedes(first) {
        throw corrupt("block \(blocks.count)'s first path is not after the previous block's", offset + UInt64(position))
      }
      blocks.append(NameTableBlockRef(offset: blockOffset, length: length, entryCount: count, firstPath: first))
      next += UInt64(length)
      entries += UInt64(count)
      position = pathStart + Int(pathLength)
    }
    guard blocks.count == Int(trailer.blockCount), next == trailer.blocksLength, entries == trailer.entryCount else {
      throw corrupt("block index does not match the trailer (blocks, lengths or entry count)", offset)
    }
    return blocks
  }
}
