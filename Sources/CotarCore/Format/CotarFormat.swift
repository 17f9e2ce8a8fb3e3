/// Constants of the Cotar v2 index format (see SPEC.md §3–§4).
public enum CotarFormat {
  /// The three magic bytes `COT` that start the header and the footer.
  public static let magic: [UInt8] = [0x43, 0x4F, 0x54]
  /// The only index version Cotar reads and writes.
  public static let version: UInt8 = 2
  /// Size of the header, and of the identical footer, in bytes.
  public static let headerSize = 8
  /// Size of one hash-table slot in bytes.
  public static let recordSize = 16
  /// Tar block size; data offsets are stored in units of this.
  public static let blockSize: UInt64 = 512
  /// Largest data offset a v2 record can address: `UInt32.max` blocks of 512 bytes (just under 2 TiB).
  public static let maximumDataOffset: UInt64 = UInt64(UInt32.max) * blockSize
  /// Largest entry size a v2 record can hold: 4 GiB − 1.
  public static let maximumEntrySize: UInt64 = UInt64(UInt32.max)
  /// Largest slot count: 2^32 − 1.
  public static let maximumSlotCount: UInt64 = UInt64(UInt32.max)

  /// Total byte size of an index with `slotCount` slots: header + slots + footer.
  public static func indexSize(slotCount: UInt32) -> UInt64 {
    UInt64(slotCount) * UInt64(recordSize) + UInt64(2 * headerSize)
  }
}
