/// Byte layout of the name table (SPEC §12): constants and the trailer.
public enum NameTableFormat {
  /// Trailer magic `COTN`.
  public static let magic: [UInt8] = [0x43, 0x4F, 0x54, 0x4E]
  /// The version this library writes and reads (2: column-wise blocks, SPEC §12.3; version 1
  /// stored whole records and was never released).
  public static let version: UInt8 = 2
  /// Size of the trailer in bytes.
  public static let trailerSize = 40
  /// Size of a block header in bytes (the CRC-32 of the block's columns).
  public static let blockHeaderSize = 4
  /// The smallest valid block: its header and eight empty columns of 3 bytes each.
  public static let minimumBlockBytes = blockHeaderSize + 8 * 3
  /// Fixed part of a block-index entry (offset, stored length, entry count, first path length).
  public static let blockIndexEntrySize = 20
  /// A writer closes a block once its uncompressed records reach this many bytes.
  public static let targetBlockBytes = 64 << 10
  /// A reader refuses a block that claims more uncompressed bytes than this (hostile input).
  public static let maximumBlockBytes = 16 << 20
  /// A reader refuses a block index larger than this.
  public static let maximumIndexBytes = 64 << 20
  /// Column method: bytes stored as they are.
  public static let methodStored: UInt8 = 0
  /// Column method: bytes compressed as one zlib (RFC 1950) stream.
  public static let methodZlib: UInt8 = 1
  /// Suffix of the sidecar that holds the table of `X.tar` (`X.tar.names`).
  public static let sidecarSuffix = ".names"
}

/// The 40-byte trailer that ends a name table (SPEC §12.2).
public struct NameTableTrailer: Sendable, Hashable {
  /// Members described (paths after duplicates are dropped).
  public var entryCount: UInt64
  /// Bytes of all blocks together (they start the table).
  public var blocksLength: UInt64
  /// Bytes of the block index (it follows the blocks).
  public var indexLength: UInt32
  /// Number of blocks.
  public var blockCount: UInt32
  /// CRC-32 of the block index bytes.
  public var indexCRC: UInt32

  /// The whole table's size: blocks, block index and trailer.
  public var tableLength: UInt64 { blocksLength + UInt64(indexLength) + UInt64(NameTableFormat.trailerSize) }

  /// The 40 trailer bytes.
  public var bytes: [UInt8] {
    var out = NameTableFormat.magic + [NameTableFormat.version, 0, 0, 0]
    out += [UInt8](repeating: 0, count: NameTableFormat.trailerSize - 8)
    out.setUInt64LE(entryCount, at: 8)
    out.setUInt64LE(blocksLength, at: 16)
    out.setUInt32LE(indexLength, at: 24)
    out.setUInt32LE(blockCount, at: 28)
    out.setUInt32LE(indexCRC, at: 32)
    out.setUInt32LE(CRC32.checksum(out[0..<36]), at: 36)
    return out
  }

  /// Creates a trailer.
  public init(entryCount: UInt64, blocksLength: UInt64, indexLength: UInt32, blockCount: UInt32, indexCRC: UInt32) {
    self.entryCount = entryCount
    self.blocksLength = blocksLength
    self.indexLength = indexLength
    self.blockCount = blockCount
    self.indexCRC = indexCRC
  }

  /// Parses the trailer held by `bytes[at..<at+40]`.
  ///
  /// - Returns: `nil` when the magic is absent (no table: not an error).
  /// - Throws: `CotarError` `.unsupportedVersion` for another version, `.corruptIndex` for a
  ///   bad checksum or nonzero reserved bytes.
  public init?(parsing bytes: [UInt8], at position: Int, sourceOffset: UInt64 = 0) throws(CotarError) {
    guard position >= 0, bytes.count - position >= NameTableFormat.trailerSize,
      Array(bytes[position..<(position + 4)]) == NameTableFormat.magic
    else { return nil }
    let trailer = Array(bytes[position..<(position + NameTableFormat.trailerSize)])
    guard trailer[4] == NameTableFormat.version else {
      throw CotarError(
        .unsupportedVersion, "name table version \(trailer[4]) is not supported (this reader knows version \(NameTableFormat.version)); rebuild it with this version of cotar",
        offset: sourceOffset + 4)
    }
    guard let crc = trailer.getUInt32LE(at: 36), crc == CRC32.checksum(trailer[0..<36]),
      trailer[5] == 0, trailer[6] == 0, trailer[7] == 0
    else {
      throw CotarError(.corruptIndex, "name table trailer checksum does not match; the table is damaged", offset: sourceOffset)
    }
    entryCount = trailer.getUInt64LE(at: 8) ?? 0
    blocksLength = trailer.getUInt64LE(at: 16) ?? 0
    indexLength = trailer.getUInt32LE(at: 24) ?? 0
    blockCount = trailer.getUInt32LE(at: 28) ?? 0
    indexCRC = trailer.getUInt32LE(at: 32) ?? 0
  }
}

/// One entry of the block index: where a block is and the first path it holds.
public struct NameTableBlockRef: Sendable, Hashable {
  /// Offset of the block from the start of the table.
  public var offset: UInt64
  /// Stored bytes of the block (header included).
  public var length: UInt32
  /// Records in the block.
  public var entryCount: UInt32
  /// The block's first (smallest) path.
  public var firstPath: [UInt8]
}
