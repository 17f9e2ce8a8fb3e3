/// The uncompressed tar inside a `.tar.gz`, read at random through its seek points.
///
/// A read of `[a, b)` finds the last seek point at or before `a`, reads the compressed bytes
/// from it to the first seek point at or after `b` (or to the end) with one range read of
/// the archive, and one of the point's window from the index when it has one; it inflates
/// from the point, drops the bytes before `a` and returns exactly `b − a` bytes. With a
/// version 2 index it inflates on to that next point and checks every segment it decoded
/// against its CRC-32, so corrupt data that still inflates is caught even when the read
/// ends before the gzip member's own CRC. Bytes
/// transferred are bounded by the seek-point spacing plus the range. Works over any
/// ``RangeSource``: a file, HTTP, S3.
///
/// The compressed bytes of the span a read begins in and of the span it ends in are kept for
/// the next reads (at most 8 spans and 8 MiB: ``GzipSpanCache``), and a read of a span that
/// another read is fetching waits for those bytes: consecutive reads that meet in one span
/// (the parts of a streamed entry, the batches of an extraction) fetch it once. After the
/// first window, a remote index's windows are read in 1 MiB blocks of the window area kept in
/// memory (at most 8 MiB: ``GzipWindowCache``), so an extraction fetches each block once.
public struct GzipTarSource: RangeSource {
  /// The compressed archive.
  public let compressed: any RangeSource
  /// The index file holding the windows.
  public let indexSource: any RangeSource
  /// The index header.
  public let header: GzipIndexHeader
  /// The seek points, in increasing order.
  public let points: [GzipSeekPoint]
  /// The spans recent reads began and ended in (shared by copies of this value).
  let spanCache = GzipSpanCache()
  /// The seek-point windows recent reads needed, and their neighbours (shared by copies).
  let windowCache: GzipWindowCache

  /// Wraps an archive and its parsed seek points; performs no I/O.
  public init(compressed: any RangeSource, indexSource: any RangeSource, header: GzipIndexHeader, points: [GzipSeekPoint]) {
    self.compressed = compressed
    self.indexSource = indexSource
    self.header = header
    self.points = points
    self.windowCache = GzipWindowCache(
      index: indexSource, windowsOffset: header.windowsOffset, windowsLength: header.windowsLength)
  }

  /// The compressed archive's identity.
  public var identity: String { compressed.identity }

  /// The uncompressed tar size recorded in the index.
  public func size() async throws -> UInt64 { header.uncompressedSize }

  /// The index of the last seek point at or before `offset`.
  func pointIndex(atOrBefore offset: UInt64) -> Int {
    var low = 0
    var high = points.count
    while high - low > 1 {
      let middle = (low + high) / 2
      if points[middle].uncompressedOffset <= offset { low = middle } else { high = middle }
    }
    return low
  }

  /// The compressed byte range that inflates `range` of the tar, with the point to start from.
  public func compressedRange(for range: Range<UInt64>) -> (point: GzipSeekPoint, bytes: Range<UInt64>) {
    let (first, next) = pointIndices(for: range)
    let end = next < points.count ? min(header.compressedSize, (points[next].compressedBitOffset + 7) / 8) : header.compressedSize
    return (points[first], points[first].compressedByteOffset..<end)
  }

  /// The tar bytes that a read of `range` inflates anyway: from the last seek point at or
  /// before its start to the first at or after its end (or the tar's end). Reads of ranges in
  /// the same span fetch the same compressed bytes, so a batch reads each span once
  /// (``Cotar/read(entries:paths:options:)``).
  public func seekSpan(of range: Range<UInt64>) -> Range<UInt64> {
    guard !points.isEmpty, !range.isEmpty else { return range }
    let (first, next) = pointIndices(for: range)
    let end = next < points.count ? points[next].uncompressedOffset : header.uncompressedSize
    return min(points[first].uncompressedOffset, range.lowerBound)..<max(end, range.upperBound)
  }

  /// The last point at or before the range's start, and the first at or after its end
  /// (`points.count` when none).
  func pointIndices(for range: Range<UInt64>) -> (first: Int, next: Int) {
    let first = pointIndex(atOrBefore: range.lowerBound)
    var next = first + 1
    while next < points.count, points[next].uncompressedOffset < range.upperBound { next += 1 }
    return (first, next)
  }

  /// The segment checks of the points `first..<next` (empty in a version 1 index): each
  /// segment's end relative to `points[first]`, its CRC-32 and where it starts.
  func segmentChecks(first: Int, next: Int) -> [GzipSliceInflater.SegmentCheck] {
    guard header.hasSegmentCRCs else { return [] }
    let base = points[first].uncompressedOffset
    return (first..<next).compactMap { number in
      guard let crc = points[number].segmentCRC else { return nil }
      let end = number + 1 < points.count ? points[number + 1].uncompressedOffset : header.uncompressedSize
      return .init(
        start: points[number].uncompressedOffset - base, end: end - base, crc: crc,
        compressedStart: points[number].compressedByteOffset)
    }
  }

  /// Exactly the tar bytes of `range`.
  ///
  /// - Throws: `CotarError` `.truncated` past the tar's end or when the gzip data ends early,
  ///   `.invalidTar` for corrupt gzip data or a segment whose CRC-32 differs from the index
  ///   (both naming the compressed offset, and ``CotarError/isDamagedData``),
  ///   `.sourceChanged` when the archive's size is not the one indexed, or what the sources throw.
  ///   Offsets in the tar are labelled ``CotarError/OffsetSpace/uncompressedTar``, the others
  ///   ``CotarError/OffsetSpace/source``.
  public func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    do {
      return try await inflate(range)
    } catch let error as CotarError {
      // Offsets found reading the archive or its index are bytes of those files.
      throw error.labellingOffset(.source)
    }
  }

  /// ``read(_:)`` before its errors' offsets are labelled.
  private func inflate(_ range: Range<UInt64>) async throws -> [UInt8] {
    if range.isEmpty { return [] }
    guard range.upperBound <= header.uncompressedSize else {
      throw CotarError(
        .truncated, "read of \(range) past the end of the uncompressed tar (\(header.uncompressedSize) bytes)",
        offset: range.lowerBound, source: identity
      ).labellingOffset(.uncompressedTar)
    }
    let (first, next) = pointIndices(for: range)
    let (point, bytes) = compressedRange(for: range)
    guard let count = Int(exactly: range.upperBound - range.lowerBound) else {
      throw CotarError(.limitExceeded, "read of \(range) is too large", offset: range.lowerBound, source: identity)
        .labellingOffset(.uncompressedTar)
    }
    async let windowBytes = window(of: point)
    let data = try await fetch(bytes, first: first, next: next)
    // Free for HTTP and S3 (the size came with the answer): a replaced archive is caught here.
    let size = try await compressed.size()
    guard size == header.compressedSize else {
      throw CotarError(
        .sourceChanged,
        "the archive is \(size) bytes but its .tar.gz.index was built for \(header.compressedSize) bytes; rebuild the index",
        source: identity)
    }
    let window = try await windowBytes
    do {
      return try GzipSliceInflater.inflate(
        data, from: point, window: window, skip: range.lowerBound - point.uncompressedOffset, count: count,
        checks: segmentChecks(first: first, next: next), identity: identity)
    } catch {
      // The archive is the size indexed: corrupt or short gzip data here is damage in these
      // seek-point spans only (SPEC §13.4).
      var damaged = error
      damaged.isDamagedData = error.code == .invalidTar || error.code == .truncated
      throw damaged
    }
  }

  /// The inflated window of `point` (empty for a member start).
  ///
  /// - Throws: `CotarError` `.corruptIndex` when the stored window does not inflate to its
  ///   recorded length, or what the index source throws.
  func window(of point: GzipSeekPoint) async throws -> [UInt8] {
    guard point.kind == .blockBoundary, point.windowLength > 0 else { return [] }
    let start = header.windowsOffset + point.windowOffset
    let stored = try await windowCache.read(point.windowOffset..<(point.windowOffset + UInt64(point.windowLength)))
    guard let window = Deflate.decompress(stored[...], expected: Int(point.windowRawLength)) else {
      throw CotarError(
        .corruptIndex, "the seek point's window does not inflate to \(point.windowRawLength) bytes", offset: start,
        source: indexSource.identity)
    }
    return window
  }

  /// The compressed bytes of span `point` (to the next point's last bit, or the end).
  func spanBytes(_ point: Int) -> Range<UInt64> {
    let end = point + 1 < points.count ? min(header.compressedSize, (points[point + 1].compressedBitOffset + 7) / 8) : header.compressedSize
    return points[point].compressedByteOffset..<max(points[point].compressedByteOffset, end)
  }

  /// The compressed `bytes` of the spans `first..<next`: the first and the last span come
  /// from ``spanCache`` when a recent or running read holds them, only the rest is fetched,
  /// and the first and last span fetched here are registered there (before the fetch, so
  /// a concurrent read waits for them rather than fetching them too).
  ///
  /// - Throws: what the archive source throws.
  func fetch(_ bytes: Range<UInt64>, first: Int, next: Int) async throws -> [UInt8] {
    let last = max(first, next - 1)
    var claims: [(point: Int, slot: GzipSpanCache.Slot, isNew: Bool)] = []
    for point in first == last ? [first] : [first, last] {
      if let claim = spanCache.slot(point: point, range: spanBytes(point)) { claims.append((point, claim.slot, claim.isNew)) }
    }
    // Fetched here: all but the spans another read holds, and all of those registered here.
    var low = bytes.lowerBound
    var high = bytes.upperBound
    for claim in claims where !claim.isNew {
      if claim.point == first { low = max(low, claim.slot.range.upperBound) }
      if claim.point == last && last != first { high = min(high, claim.slot.range.lowerBound) }
    }
    for claim in claims where claim.isNew {
      low = min(low, claim.slot.range.lowerBound)
      high = max(high, claim.slot.range.upperBound)
    }
    let fetchedRange = low..<max(low, high)
    let fetched: [UInt8]
    do {
      // Nothing to fetch when kept spans hold it all.
      fetched = fetchedRange.isEmpty ? [] : try await compressed.read(fetchedRange)
      guard fetched.count == fetchedRange.count else {
        throw CotarError(
          .truncated, "the archive returned \(fetched.count) bytes for \(fetchedRange)", offset: fetchedRange.lowerBound,
          source: identity)
      }
    } catch {
      for claim in claims where claim.isNew {
        spanCache.remove(claim.slot, point: claim.point)
        claim.slot.finish(nil)
      }
      throw error
    }
    for claim in claims where claim.isNew {
      let start = Int(claim.slot.range.lowerBound - low)
      claim.slot.finish(Array(fetched[start..<(start + claim.slot.range.count)]))
    }
    if fetchedRange == bytes { return fetched }
    var data = [UInt8](repeating: 0, count: bytes.count)
    func place(_ piece: [UInt8], at offset: UInt64) {
      let start = Int(offset - bytes.lowerBound)
      data.replaceSubrange(start..<(start + piece.count), with: piece)
    }
    place(fetched, at: low)
    for claim in claims where !claim.isNew {
      // The read that was fetching it failed: fetched here after all.
      let span: [UInt8]
      if let held = await claim.slot.bytes(), held.count == claim.slot.range.count {
        span = held
      } else {
        span = try await compressed.read(claim.slot.range)
      }
      place(span, at: claim.slot.range.lowerBound)
    }
    return data
  }
}
