extension Cotar {
  /// Opens a `.tar.gz` with its `.tar.gz.index` (SPEC §13) with one prefix read of the index.
  ///
  /// The returned archive reads entries through ``GzipTarSource``: a cold lookup costs one
  /// index window read, then one read of the compressed bytes from the seek point before the
  /// entry through its end and, for a point inside a member, one read of its window (the two
  /// concurrently). A local archive is checked against the index at once (size and CRC-32 of
  /// its first and last 4 KiB); a remote one by size on every read, by ETag pinning, and
  /// fully by ``GzipArchiveIndex/verifyIdentity()``.
  ///
  /// - Throws: `CotarError` `.invalidMagic` when the index is not a `.tar.gz.index` (a plain v2
  ///   sidecar is refused with advice), `.corruptIndex` for a damaged index, `.sourceChanged`
  ///   when a local archive does not match the index, or what the sources throw.
  public static func open(
    gzip archive: any RangeSource, index indexSource: any RangeSource, options: OpenOptions = OpenOptions()
  ) async throws -> Cotar {
    let gzip = try await GzipArchiveIndex.open(
      archive: archive, index: indexSource, speculativeBytes: options.speculativeBytes,
      keepingRead: options.keepSpeculativeRead)
    // Local reads are cheap: check the archive at once (remote ones are checked by size on
    // every read and by ETag pinning, not with two more requests).
    if !SourceResolver.isRemote(archive.identity) { try await gzip.verifyIdentity() }
    let index = try await options.prepare(gzip.v2)
    return Cotar(index: index, data: gzip.tar, dataLimit: gzip.header.uncompressedSize)
  }
}

/// A parsed `.tar.gz.index`: its header, seek points, v2 index and the uncompressed view of
/// the archive.
public struct GzipArchiveIndex: Sendable {
  /// The header.
  public let header: GzipIndexHeader
  /// The v2 index (offsets in the uncompressed tar).
  public let v2: CotarIndex
  /// The uncompressed tar, read through the seek points.
  public let tar: GzipTarSource
  /// The index file.
  public var source: any RangeSource { tar.indexSource }
  /// The index file's size.
  public let fileSize: UInt64

  /// Reads and checks the header and the seek-point table (one prefix read, and one more
  /// when the table does not fit in `speculativeBytes`).
  ///
  /// - Throws: as ``Cotar/open(gzip:index:options:)``.
  public static func open(
    archive: any RangeSource, index source: any RangeSource, speculativeBytes: Int = 64 << 10
  ) async throws -> GzipArchiveIndex {
    try await open(archive: archive, index: source, speculativeBytes: speculativeBytes, keepingRead: false)
  }

  /// ``open(archive:index:speculativeBytes:)``; with `keepingRead`, a remote index file is
  /// read through a ``PrefetchedSource`` holding the prefix read, so seek-point windows, the
  /// name table and v2 slots inside it cost no further request.
  static func open(
    archive: any RangeSource, index given: any RangeSource, speculativeBytes: Int, keepingRead: Bool
  ) async throws -> GzipArchiveIndex {
    let (prefix, fileSize) = try await given.readPrefix(count: max(speculativeBytes, GzipIndexFormat.headerSize))
    let source = keepingRead ? CotarIndex.keeping(prefix, at: 0, totalSize: fileSize, in: given) : given
    do {
      if !GzipIndexFormat.isGzipIndex(prefix), (try? CotarIndexHeader(parsing: prefix)) != nil {
        throw CotarError(
          .invalidMagic,
          "this is a plain .tar.index, but the archive is gzip-compressed; build a .tar.gz.index with 'cotar index ARCHIVE.tar.gz'",
          offset: 0)
      }
      let header = try GzipIndexHeader(parsing: prefix, fileSize: fileSize)
      let tableRange = header.pointTableOffset..<(header.pointTableOffset + header.pointTableLength)
      let table: [UInt8]
      if UInt64(prefix.count) >= tableRange.upperBound {
        table = Array(prefix[Int(tableRange.lowerBound)..<Int(tableRange.upperBound)])
      } else {
        table = try await source.read(tableRange)
      }
      let points = try header.parsePoints(table)
      let slots = try header.slotCount(fileSize: fileSize)
      let v2Header = CotarIndexHeader(slotCount: slots)
      var v2 = CotarIndex(source: source, baseOffset: header.v2Offset, header: v2Header)
      if UInt64(prefix.count) == fileSize {
        // The whole file is in memory: check the v2 header and footer and keep the slots.
        let start = Int(header.v2Offset)
        let parsed = try CotarIndexHeader(parsing: prefix, at: start, sourceOffset: header.v2Offset)
        let footer = try CotarIndexHeader(parsing: prefix, at: prefix.count - 8, sourceOffset: fileSize - 8)
        guard parsed == v2Header, footer == v2Header else {
          throw CotarError(.corruptIndex, "the v2 index header or footer does not match its size", offset: header.v2Offset)
        }
        v2 = CotarIndex(
          source: source, baseOffset: header.v2Offset, header: v2Header, lookupOptions: .init(),
          resident: .init(firstSlot: 0, bytes: Array(prefix[(start + 8)..<(prefix.count - 8)])))
      }
      return GzipArchiveIndex(
        header: header, v2: v2, tar: GzipTarSource(compressed: archive, indexSource: source, header: header, points: points),
        fileSize: fileSize)
    } catch let error as CotarError {
      throw error.withSource(source.identity)
    }
  }

  /// Checks that the archive is the one indexed; see ``GzipTarSource/verifyIdentity()``.
  ///
  /// - Throws: as ``GzipTarSource/verifyIdentity()``.
  public func verifyIdentity() async throws { try await tar.verifyIdentity() }

  /// The name table stored before the v2 index, if any; see ``GzipTarSource/nameTable(speculativeBytes:)``.
  ///
  /// - Throws: as ``NameTable/open(in:endingAt:speculativeBytes:)``.
  public func nameTable(speculativeBytes: Int = 64 << 10) async throws -> NameTable? {
    try await tar.nameTable(speculativeBytes: speculativeBytes)
  }
}

extension GzipTarSource {
  /// Checks that the archive is the one indexed: its size and the CRC-32 of its first and
  /// last 4 KiB (two small reads).
  ///
  /// - Throws: `CotarError` `.sourceChanged` naming what differs, or what the archive throws.
  public func verifyIdentity() async throws {
    let archive = compressed
    let size = try await archive.size()
    func changed(_ what: String) -> CotarError {
      CotarError(
        .sourceChanged, "the archive does not match its .tar.gz.index (\(what)); rebuild the index with 'cotar index'",
        source: archive.identity)
    }
    guard size == header.compressedSize else {
      throw changed("it is \(size) bytes, the index was built for \(header.compressedSize)")
    }
    let block = UInt64(min(GzipIndexFormat.identityBlockSize, Int(min(size, UInt64(Int.max)))))
    async let first = archive.read(0..<block)
    async let last = archive.read((size - block)..<size)
    guard CRC32.checksum(try await first) == header.firstBlockCRC else { throw changed("its first 4 KiB differ") }
    guard CRC32.checksum(try await last) == header.lastBlockCRC else { throw changed("its last 4 KiB differ") }
  }

  /// The name table stored in the index file before the v2 index, if any (SPEC §13.1).
  ///
  /// - Throws: as ``NameTable/open(in:endingAt:speculativeBytes:)``.
  public func nameTable(speculativeBytes: Int = 64 << 10) async throws -> NameTable? {
    let windowsEnd = header.windowsOffset + header.windowsLength
    guard header.v2Offset > windowsEnd else { return nil }
    return try await NameTable.open(in: indexSource, endingAt: header.v2Offset, speculativeBytes: speculativeBytes)
  }
}
