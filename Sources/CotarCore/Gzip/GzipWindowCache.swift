import Synchronization

/// The window area of a remote `.tar.gz.index` (SPEC §13.1), read for ``GzipTarSource``: the
/// first ``windowsReadAlone`` windows an open archive needs are fetched alone (a cold lookup,
/// or one streamed entry's parts, transfers no more than those windows), every later one
/// through blocks of ``blockSize`` bytes of the area kept in a ``BlockCache`` of
/// ``capacityBytes``, so the windows of the next batches of an extraction come from memory. A
/// window area of at most ``blockSize`` bytes is one block: it is then fetched whole, once.
///
/// A local index file, and the windows `cotar index` holds in memory while it scans, are read
/// directly (a read costs a syscall or a copy, not a request).
final class GzipWindowCache: Sendable {
  /// Bytes of the window area per block (and the largest area fetched whole).
  static let blockSize = 1 << 20
  /// Window-area bytes kept at most per open archive.
  static let capacityBytes = 8 << 20
  /// Windows read alone before blocks are used: a few reads (one entry, the parts of a
  /// streamed one) pay only for their windows; a run of many pays for the area about once.
  static let windowsReadAlone = 4

  /// The index file.
  private let index: any RangeSource
  /// The window area, in blocks; `nil` for a local index.
  private let area: BlockCacheSource?
  /// Where the window area starts in the index file.
  private let areaStart: UInt64
  /// How many windows have been read.
  private let windowsRead = Atomic<Int>(0)

  /// Reads the window area `windowsOffset..<windowsOffset + windowsLength` of `index`.
  init(index: any RangeSource, windowsOffset: UInt64, windowsLength: UInt64) {
    self.index = index
    self.areaStart = windowsOffset
    let inMemory = (index as? PaddedSource).map { CotarIndex.isLocal($0.base) } ?? false  // `cotar index`'s scan
    if CotarIndex.isLocal(index) || CotarIndex.localFile(of: index) != nil || inMemory || windowsLength == 0 {
      area = nil
    } else {
      let block = Int(clamping: min(windowsLength, UInt64(Self.blockSize)))
      area = BlockCacheSource(
        ShiftedSource(base: index, start: windowsOffset, length: windowsLength), limit: windowsLength,
        blockSize: block, cache: BlockCache(capacityBytes: Self.capacityBytes))
    }
  }

  /// The stored (compressed) bytes at `range` of the window area.
  ///
  /// - Throws: what the index source throws; `.truncated` when it returns fewer bytes.
  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    let alone = windowsRead.add(1, ordering: .relaxed).oldValue < Self.windowsReadAlone
    guard let area, !alone, range.upperBound <= area.limit else {
      return try await index.read((areaStart + range.lowerBound)..<(areaStart + range.upperBound))
    }
    return try await area.read(range)
  }
}

/// `length` bytes of another source from `start`, seen from 0 (so ``BlockCacheSource``'s
/// blocks align on the window area).
private struct ShiftedSource: RangeSource {
  let base: any RangeSource
  let start: UInt64
  let length: UInt64

  var identity: String { base.identity }

  func size() async throws -> UInt64 { length }

  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    guard range.upperBound <= length else {
      throw CotarError(
        .truncated, "read of \(range) past the end of the window area (\(length) bytes)",
        offset: start + range.lowerBound, source: identity)
    }
    return try await base.read((start + range.lowerBound)..<(start + range.upperBound))
  }
}
