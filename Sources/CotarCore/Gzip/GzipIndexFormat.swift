/// The layout of a `.tar.gz.index` (SPEC §13): a 64-byte header starting with `COTZ`, the
/// seek-point table (points, then in version 2 the CRC-32 of each point's segment), the
/// compressed windows, an optional name table, then a v2 index whose offsets are positions
/// in the uncompressed tar.
public enum GzipIndexFormat {
  /// `COTZ`.
  public static let magic: [UInt8] = [0x43, 0x4F, 0x54, 0x5A]
  /// The layout version this code writes: 2, with a CRC-32 per seek-point segment.
  public static let version: UInt8 = 2
  /// The layout versions this code reads: 1 (no segment CRCs) and 2.
  public static let readableVersions: ClosedRange<UInt8> = 1...2
  /// Bytes of the header.
  public static let headerSize = 64
  /// Bytes of one seek point.
  public static let pointSize = 32
  /// Bytes of one segment CRC-32 (version 2), after the points.
  public static let segmentCRCSize = 4
  /// The inflate window (history) a seek point in the middle of a member stores.
  public static let windowSize = 32 << 10
  /// Bytes of the compressed archive hashed at its start and at its end (identity check).
  public static let identityBlockSize = 4096
  /// Default uncompressed bytes between seek points.
  public static let defaultSpacing = 1 << 20
  /// The most seek points a reader accepts (a hostile-input bound: 64 Mi points is a 64 TiB
  /// archive at the default spacing).
  public static let maximumPoints: UInt32 = 1 << 26
  /// The largest compressed window accepted (zlib's bound for 32 KiB at any level).
  public static let maximumCompressedWindow = 40 << 10
  /// The file extension of the index beside `X.tar.gz`.
  public static let sidecarSuffix = ".index"

  /// Whether a path or URL names a gzip-compressed tar (`.tar.gz`, `.tgz`, any case;
  /// a URL's query is ignored).
  public static func isGzipName(_ location: String) -> Bool {
    let name = ArchiveLocation.pathPart(of: location).lowercased()
    return name.hasSuffix(".tar.gz") || name.hasSuffix(".tgz")
  }

  /// The name to suggest for a gzip-compressed tar found at `path` under another name: `.gz`
  /// added to a `.tar`, a `.tar.co` becoming `.tar.gz`, `.tar.gz` added to any other name.
  public static func gzipName(for path: String) -> String {
    let lowered = path.lowercased()
    if lowered.hasSuffix(".tar") { return path + ".gz" }
    if lowered.hasSuffix(".tar.co") { return String(path.dropLast(".co".count)) + ".gz" }
    return path + ".tar.gz"
  }

  /// The name to suggest for an uncompressed tar found at `path`, named like a `.tar.gz`:
  /// `.tar.gz` or `.tgz` (any case) becoming `.tar`.
  public static func plainTarName(for path: String) -> String {
    let lowered = path.lowercased()
    for suffix in [".tar.gz", ".tgz"] where lowered.hasSuffix(suffix) { return path.dropLast(suffix.count) + ".tar" }
    return path + ".tar"
  }

  /// Whether `bytes` start with a `.tar.gz.index` header (`COTZ`), as opposed to a plain v2
  /// sidecar (`COT` + version 2).
  public static func isGzipIndex<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
    bytes.count >= 4 && Array(bytes.prefix(4)) == magic
  }
}

/// How a seek point starts inflating.
public enum GzipSeekPointKind: UInt8, Sendable, Hashable {
  /// The start of a gzip member: inflate from its header, no window.
  case memberStart = 0
  /// A deflate block boundary inside a member: raw inflate, primed with the bits of the
  /// shared byte and the stored window.
  case blockBoundary = 1
}

/// One place where inflating can start (SPEC §13.3).
public struct GzipSeekPoint: Sendable, Hashable {
  /// The offset in the uncompressed tar.
  public var uncompressedOffset: UInt64
  /// The offset in the compressed file, in bits (a member start is a multiple of 8).
  public var compressedBitOffset: UInt64
  /// How to start there.
  public var kind: GzipSeekPointKind
  /// Where the zlib-compressed window starts, from the start of the window area.
  public var windowOffset: UInt64
  /// Bytes of the compressed window (0 for a member start).
  public var windowLength: UInt32
  /// Bytes of the window once inflated (at most 32 KiB; 0 for a member start).
  public var windowRawLength: UInt16
  /// CRC-32 of the uncompressed bytes from this point to the next (or to the end of the tar);
  /// `nil` in a version 1 index, which has none.
  public var segmentCRC: UInt32?

  /// Creates a seek point.
  public init(
    uncompressedOffset: UInt64, compressedBitOffset: UInt64, kind: GzipSeekPointKind, windowOffset: UInt64 = 0,
    windowLength: UInt32 = 0, windowRawLength: UInt16 = 0, segmentCRC: UInt32? = nil
  ) {
    self.uncompressedOffset = uncompressedOffset
    self.compressedBitOffset = compressedBitOffset
    self.kind = kind
    self.windowOffset = windowOffset
    self.windowLength = windowLength
    self.windowRawLength = windowRawLength
    self.segmentCRC = segmentCRC
  }

  /// The first compressed byte a reader needs (the one holding the first bit).
  public var compressedByteOffset: UInt64 { compressedBitOffset / 8 }

  /// The 32 serialized bytes (the segment CRC is stored apart, after the points).
  func serialized() -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: GzipIndexFormat.pointSize)
    bytes.setUInt64LE(uncompressedOffset, at: 0)
    bytes.setUInt64LE(compressedBitOffset, at: 8)
    bytes.setUInt64LE(windowOffset, at: 16)
    bytes.setUInt32LE(windowLength, at: 24)
    bytes[28] = UInt8(truncatingIfNeeded: windowRawLength)
    bytes[29] = UInt8(truncatingIfNeeded: windowRawLength >> 8)
    bytes[30] = kind.rawValue
    return bytes
  }
}

/// The header of a `.tar.gz.index` (SPEC §13.2).
public struct GzipIndexHeader: Sendable, Hashable {
  /// The layout version (1: no segment CRCs; 2: a CRC-32 per segment after the points).
  public var version: UInt8 = GzipIndexFormat.version
  /// Size of the compressed archive this index describes.
  public var compressedSize: UInt64
  /// Size of the tar inside it.
  public var uncompressedSize: UInt64
  /// Number of seek points.
  public var pointCount: UInt32
  /// The spacing the writer aimed for, in uncompressed bytes (informative).
  public var spacing: UInt32
  /// Bytes of the window area.
  public var windowsLength: UInt64
  /// Offset of the v2 index header in the index file.
  public var v2Offset: UInt64
  /// CRC-32 of the first `min(4096, compressedSize)` bytes of the archive.
  public var firstBlockCRC: UInt32
  /// CRC-32 of the last `min(4096, compressedSize)` bytes of the archive.
  public var lastBlockCRC: UInt32
  /// CRC-32 of the seek-point table.
  public var pointTableCRC: UInt32

  /// Creates a header.
  public init(
    compressedSize: UInt64, uncompressedSize: UInt64, pointCount: UInt32, spacing: UInt32, windowsLength: UInt64,
    v2Offset: UInt64, firstBlockCRC: UInt32, lastBlockCRC: UInt32, pointTableCRC: UInt32
  ) {
    self.compressedSize = compressedSize
    self.uncompressedSize = uncompressedSize
    self.pointCount = pointCount
    self.spacing = spacing
    self.windowsLength = windowsLength
    self.v2Offset = v2Offset
    self.firstBlockCRC = firstBlockCRC
    self.lastBlockCRC = lastBlockCRC
    self.pointTableCRC = pointTableCRC
  }

  /// Offset of the seek-point table.
  public var pointTableOffset: UInt64 { UInt64(GzipIndexFormat.headerSize) }
  /// Whether the table holds a CRC-32 per segment (version 2 on).
  public var hasSegmentCRCs: Bool { version >= 2 }
  /// Bytes of the seek-point table: the points and, from version 2, their segment CRCs.
  public var pointTableLength: UInt64 {
    UInt64(pointCount) * UInt64(GzipIndexFormat.pointSize + (hasSegmentCRCs ? GzipIndexFormat.segmentCRCSize : 0))
  }

  /// The seek-point table for `points` in this header's version: the 32-byte points, then
  /// (version 2) their segment CRCs, 4 bytes each (a missing one is written as 0).
  public func serializeTable(_ points: [GzipSeekPoint]) -> [UInt8] {
    var bytes = points.flatMap { $0.serialized() }
    if hasSegmentCRCs {
      for point in points {
        let crc = point.segmentCRC ?? 0
        bytes += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 24)]
      }
    }
    return bytes
  }
  /// Offset of the window area.
  public var windowsOffset: UInt64 { pointTableOffset + pointTableLength }

  /// The 64 serialized bytes, ending with their own CRC-32.
  public func serialized() -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: GzipIndexFormat.headerSize)
    bytes.replaceSubrange(0..<4, with: GzipIndexFormat.magic)
    bytes[4] = version
    bytes.setUInt64LE(compressedSize, at: 8)
    bytes.setUInt64LE(uncompressedSize, at: 16)
    bytes.setUInt32LE(pointCount, at: 24)
    bytes.setUInt32LE(spacing, at: 28)
    bytes.setUInt64LE(windowsLength, at: 32)
    bytes.setUInt64LE(v2Offset, at: 40)
    bytes.setUInt32LE(firstBlockCRC, at: 48)
    bytes.setUInt32LE(lastBlockCRC, at: 52)
    bytes.setUInt32LE(pointTableCRC, at: 56)
    bytes.setUInt32LE(CRC32.checksum(bytes[0..<60]), at: 60)
    return bytes
  }

  /// Parses and checks the header at the start of `bytes`, an index file of `fileSize` bytes.
  ///
  /// - Throws: `CotarError` `.invalidMagic` without `COTZ`, `.unsupportedVersion`,
  ///   `.truncated` when fewer than 64 bytes are given, `.corruptIndex` when the CRC, the
  ///   reserved bytes or the section sizes do not fit the file.
  public init(parsing bytes: [UInt8], fileSize: UInt64) throws(CotarError) {
    guard bytes.count >= GzipIndexFormat.headerSize else {
      throw CotarError(.truncated, "a .tar.gz.index starts with a 64-byte header; only \(bytes.count) bytes", offset: 0)
    }
    guard GzipIndexFormat.isGzipIndex(bytes) else {
      throw CotarError(.invalidMagic, "not a .tar.gz.index (no COTZ magic)", offset: 0)
    }
    guard GzipIndexFormat.readableVersions.contains(bytes[4]) else {
      throw CotarError(
        .unsupportedVersion,
        ".tar.gz.index version \(bytes[4]) is not supported (this Cotar reads \(GzipIndexFormat.readableVersions.lowerBound) to \(GzipIndexFormat.readableVersions.upperBound)); rebuild it with 'cotar index'",
        offset: 4)
    }
    version = bytes[4]
    guard bytes[5] == 0, bytes[6] == 0, bytes[7] == 0 else {
      throw CotarError(.corruptIndex, ".tar.gz.index header: reserved bytes 5–7 are not 0", offset: 5)
    }
    guard let crc = bytes.getUInt32LE(at: 60), crc == CRC32.checksum(bytes[0..<60]) else {
      throw CotarError(.corruptIndex, ".tar.gz.index header CRC-32 does not match", offset: 60)
    }
    // Every getter below is within the 64 bytes checked above.
    compressedSize = bytes.getUInt64LE(at: 8) ?? 0
    uncompressedSize = bytes.getUInt64LE(at: 16) ?? 0
    pointCount = bytes.getUInt32LE(at: 24) ?? 0
    spacing = bytes.getUInt32LE(at: 28) ?? 0
    windowsLength = bytes.getUInt64LE(at: 32) ?? 0
    v2Offset = bytes.getUInt64LE(at: 40) ?? 0
    firstBlockCRC = bytes.getUInt32LE(at: 48) ?? 0
    lastBlockCRC = bytes.getUInt32LE(at: 52) ?? 0
    pointTableCRC = bytes.getUInt32LE(at: 56) ?? 0
    guard pointCount >= 1, pointCount <= GzipIndexFormat.maximumPoints else {
      throw CotarError(
        .corruptIndex, ".tar.gz.index announces \(pointCount) seek points (1 to \(GzipIndexFormat.maximumPoints) allowed)",
        offset: 24)
    }
    let (windowsEnd, overflow) = windowsOffset.addingReportingOverflow(windowsLength)
    guard !overflow, windowsEnd <= v2Offset, v2Offset <= fileSize,
      fileSize - v2Offset >= UInt64(CotarFormat.headerSize * 2),
      (fileSize - v2Offset) % UInt64(CotarFormat.recordSize) == 0
    else {
      throw CotarError(
        .corruptIndex,
        ".tar.gz.index sections do not fit the file: \(pointCount) points, \(windowsLength) window bytes, v2 index at \(v2Offset), file \(fileSize) bytes",
        offset: 24)
    }
  }

  /// The v2 index's slot count implied by the file size.
  public func slotCount(fileSize: UInt64) throws(CotarError) -> UInt32 {
    let slots = (fileSize - v2Offset - UInt64(CotarFormat.headerSize * 2)) / UInt64(CotarFormat.recordSize)
    guard let count = UInt32(exactly: slots) else {
      throw CotarError(.corruptIndex, ".tar.gz.index: v2 part of \(fileSize - v2Offset) bytes is too large", offset: v2Offset)
    }
    return count
  }

  /// Parses and checks the seek-point table (`bytes` are exactly the table); in a version 2
  /// index each point gets its ``GzipSeekPoint/segmentCRC``.
  ///
  /// - Throws: `CotarError` `.corruptIndex` naming the point when the table's CRC differs,
  ///   the first point is not the start of the archive, offsets do not increase, a point
  ///   lies outside the archive, or a window lies outside the window area.
  public func parsePoints(_ bytes: [UInt8]) throws(CotarError) -> [GzipSeekPoint] {
    guard UInt64(bytes.count) == pointTableLength else {
      throw CotarError(.truncated, "seek-point table: \(bytes.count) of \(pointTableLength) bytes", offset: pointTableOffset)
    }
    guard CRC32.checksum(bytes) == pointTableCRC else {
      throw CotarError(.corruptIndex, "the seek-point table's CRC-32 does not match the header", offset: pointTableOffset)
    }
    var points: [GzipSeekPoint] = []
    points.reserveCapacity(Int(pointCount))
    for number in 0..<Int(pointCount) {
      let at = number * GzipIndexFormat.pointSize
      let offset = pointTableOffset + UInt64(at)
      func corrupt(_ why: String) -> CotarError { CotarError(.corruptIndex, "seek point \(number): \(why)", offset: offset) }
      guard let uncompressed = bytes.getUInt64LE(at: at), let bits = bytes.getUInt64LE(at: at + 8),
        let windowOffset = bytes.getUInt64LE(at: at + 16), let windowLength = bytes.getUInt32LE(at: at + 24)
      else { throw corrupt("cut short") }
      let rawLength = UInt16(bytes[at + 28]) | UInt16(bytes[at + 29]) << 8
      guard let kind = GzipSeekPointKind(rawValue: bytes[at + 30]), bytes[at + 31] == 0 else {
        throw corrupt("unknown kind \(bytes[at + 30]) or reserved byte not 0")
      }
      let crcAt = Int(pointCount) * GzipIndexFormat.pointSize + number * GzipIndexFormat.segmentCRCSize
      let point = GzipSeekPoint(
        uncompressedOffset: uncompressed, compressedBitOffset: bits, kind: kind, windowOffset: windowOffset,
        windowLength: windowLength, windowRawLength: rawLength, segmentCRC: hasSegmentCRCs ? bytes.getUInt32LE(at: crcAt) : nil)
      if let previous = points.last {
        guard uncompressed > previous.uncompressedOffset, bits > previous.compressedBitOffset else {
          throw corrupt("offsets do not increase")
        }
      } else {
        guard uncompressed == 0, bits == 0, kind == .memberStart else {
          throw corrupt("the first seek point must be the start of the archive")
        }
      }
      guard uncompressed < max(uncompressedSize, 1), bits / 8 < compressedSize else {
        throw corrupt("lies outside the archive (\(compressedSize) compressed, \(uncompressedSize) uncompressed bytes)")
      }
      switch kind {
      case .memberStart:
        guard bits % 8 == 0, windowLength == 0, rawLength == 0 else {
          throw corrupt("a member start must be byte-aligned and have no window")
        }
      case .blockBoundary:
        let (end, overflow) = windowOffset.addingReportingOverflow(UInt64(windowLength))
        guard !overflow, end <= windowsLength, windowLength <= GzipIndexFormat.maximumCompressedWindow,
          Int(rawLength) <= GzipIndexFormat.windowSize
        else { throw corrupt("window \(windowOffset)+\(windowLength) lies outside the window area or is too large") }
      }
      points.append(point)
    }
    return points
  }
}
