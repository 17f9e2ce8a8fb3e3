import CotarCore

/// Where a `.tar.co`'s slot windows lie, so the bench can pick paths whose index window is
/// (or is not) already in memory without reaching into `CotarIndex`'s internals.
///
/// A lookup reads the window of `windowSlots` slots at the path's home slot
/// (`hash % slotCount`). At open, `Cotar.open` reads the last `speculativeBytes` of the file
/// and keeps the slots in it; with the default options later windows are cached in aligned
/// blocks of `blockSize` bytes.
struct RemoteGeometry {
  /// Offset of the index header in the `.tar.co`.
  var baseOffset: UInt64
  /// Slots in the table.
  var slotCount: UInt64
  /// Size of the `.tar.co`.
  var fileSize: UInt64
  /// Whether the speculative read at open held the whole table.
  var fullyResident: Bool
  /// Bytes of the speculative suffix read at open.
  var speculativeBytes = Cotar.OpenOptions().speculativeBytes
  /// Slots per window read.
  var windowSlots = Cotar.OpenOptions().lookup.windowSlots
  /// Bytes per cached index block.
  var blockSize = Cotar.OpenOptions().indexBlockSize

  /// Reads the geometry off an opened archive.
  init(archive: Cotar) {
    baseOffset = archive.index.baseOffset
    slotCount = archive.index.slotCount
    fileSize = archive.index.baseOffset + archive.index.header.indexSize
    fullyResident = archive.index.isResident
  }

  /// The bytes of the first window a lookup of `path` reads; `nil` when it wraps around the
  /// end of the table (such paths are not picked).
  func window(_ path: String) -> Range<UInt64>? {
    guard slotCount > 0 else { return nil }
    let slot = PathHash.fnv1a64(path) % slotCount
    guard slot + UInt64(windowSlots) <= slotCount else { return nil }
    let start = baseOffset + UInt64(CotarFormat.headerSize) + slot * UInt64(CotarFormat.recordSize)
    return start..<(start + UInt64(windowSlots * CotarFormat.recordSize))
  }

  /// Whether `window` lies in the suffix read at open (its slots are then in memory).
  func isInSpeculativeRead(_ window: Range<UInt64>) -> Bool {
    fullyResident || window.lowerBound >= fileSize - min(fileSize, UInt64(speculativeBytes))
  }

  /// The cache blocks `window` touches.
  func blocks(_ window: Range<UInt64>) -> ClosedRange<UInt64> {
    (window.lowerBound / UInt64(blockSize))...((window.upperBound - 1) / UInt64(blockSize))
  }
}
