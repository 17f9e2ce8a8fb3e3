/// One 16-byte hash-table slot: path hash, data offset in 512-byte blocks, and size.
///
/// A slot whose `hash` is zero is empty.
public struct CotarIndexRecord: Hashable, Sendable {
  /// FNV-1a 64 of the path; zero marks an empty slot.
  public var hash: UInt64
  /// Data offset divided by 512.
  public var blockOffset: UInt32
  /// Entry size in bytes.
  public var size: UInt32

  /// Creates a record.
  public init(hash: UInt64, blockOffset: UInt32, size: UInt32) {
    self.hash = hash
    self.blockOffset = blockOffset
    self.size = size
  }

  /// Reads the record at `offset` in `bytes`; `nil` when fewer than 16 bytes remain.
  @inlinable
  public init?(bytes: [UInt8], at offset: Int) {
    guard let hash = bytes.getUInt64LE(at: offset),
      let block = bytes.getUInt32LE(at: offset + 8),
      let size = bytes.getUInt32LE(at: offset + 12)
    else { return nil }
    self.init(hash: hash, blockOffset: block, size: size)
  }

  /// Whether this slot is empty (hash zero).
  public var isEmpty: Bool { hash == 0 }

  /// The entry this record points at.
  public var entry: CotarEntry {
    CotarEntry(offset: UInt64(blockOffset) * CotarFormat.blockSize, size: UInt64(size))
  }
}

/// Where a file's bytes live inside the tar.
public struct CotarEntry: Hashable, Sendable {
  /// Byte offset of the first data byte (a multiple of 512).
  public var offset: UInt64
  /// Number of data bytes.
  public var size: UInt64

  /// Creates an entry location.
  public init(offset: UInt64, size: UInt64) {
    self.offset = offset
    self.size = size
  }

  /// The byte range of the data.
  public var range: Range<UInt64> { offset..<(offset + size) }
}
