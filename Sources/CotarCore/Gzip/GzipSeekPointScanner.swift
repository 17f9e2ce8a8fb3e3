/// One sequential pass over a gzip file that records seek points (zran's technique).
///
/// Every member (concatenated members, as `pigz`, bgzip and `cotar tar --gzip` write) is
/// inflated and its CRC-32 and size checked by zlib. A member start becomes a seek point
/// without a window when at least half the spacing has passed since the last point; a
/// deflate block boundary becomes a point with its 32 KiB window (zlib-compressed) when a
/// whole spacing has passed. Trailing zero bytes after the last member are ignored, as gzip
/// does; other trailing bytes are an error. Each point gets the CRC-32 of the uncompressed
/// bytes from it to the next point (its segment), which a reader checks (SPEC §13.3).
struct GzipSeekPointScanner {
  /// What the pass found.
  struct Result {
    var points: [GzipSeekPoint]
    /// The compressed windows, concatenated (points hold offsets into it).
    var windows: [UInt8]
    var compressedSize: UInt64
    var uncompressedSize: UInt64
    var members: Int
    var firstBlockCRC: UInt32
    var lastBlockCRC: UInt32
    /// Every compressed byte, when spooling was asked for and worked.
    var spool: GzipSpool?
  }

  let source: any RangeSource
  let spacing: UInt64
  /// Record block-boundary points (with windows); `false`: member starts only.
  var windows = true
  var readSize = 1 << 20
  /// Keep the compressed bytes in an unlinked temporary file in this directory, when there
  /// is room (``GzipSpool``), so a second pass need not read the archive again.
  var spoolDirectory: String? = nil

  /// Runs the pass.
  ///
  /// - Throws: `CotarError` `.invalidTar` for data that is not gzip or is corrupt,
  ///   `.truncated` when the file ends inside a member (both naming the compressed offset),
  ///   or what the source throws.
  func scan(progress: ((UInt64) -> Void)? = nil) async throws -> Result {
    let size = try await source.size()
    guard size > 0 else {
      throw CotarError(.invalidTar, "the file is empty (0 bytes), not a .tar.gz", offset: 0, source: source.identity)
    }
    let inflater = try ZlibInflater(mode: .gzip)
    var spool = spoolDirectory.flatMap { GzipSpool(directory: $0, size: size) }
    // The archive's last 4 KiB, for the identity check, kept as the chunks go by.
    var tail: [UInt8] = []
    // Output goes into `history`; the window of a point is its last 32 KiB within the member.
    let historyCapacity = 256 << 10
    var history = [UInt8](repeating: 0, count: historyCapacity)
    var fill = 0
    var memberHistoryStart = 0
    var result = Result(
      points: [GzipSeekPoint(uncompressedOffset: 0, compressedBitOffset: 0, kind: .memberStart)], windows: [],
      compressedSize: size, uncompressedSize: 0, members: 1, firstBlockCRC: 0, lastBlockCRC: 0)
    var total: UInt64 = 0  // uncompressed bytes so far
    var memberStartU: UInt64 = 0
    var lastPointU: UInt64 = 0
    var chunkStart: UInt64 = 0
    var chunk: [UInt8] = []
    var position = 0  // within chunk
    var atMemberStart = false  // a member just ended; the next byte starts another (or zeros)
    var trailingZeros = false
    var segmentCRC: UInt32 = 0  // of the uncompressed bytes since the last point
    /// Ends the current segment at `total` and starts one at `point`.
    func startSegment(_ point: GzipSeekPoint, into result: inout Result) {
      result.points[result.points.count - 1].segmentCRC = segmentCRC
      result.points.append(point)
      segmentCRC = 0
    }
    while true {
      if position == chunk.count {
        chunkStart += UInt64(chunk.count)
        if chunkStart >= size { break }
        try Task.checkCancellation()
        chunk = []
        chunk = try await source.read(chunkStart..<min(size, chunkStart + UInt64(readSize)))
        position = 0
        if let kept = spool, !kept.append(chunk) { spool = nil }
        tail = Array((chunk.count >= GzipIndexFormat.identityBlockSize ? chunk[...] : (tail + chunk)[...]).suffix(GzipIndexFormat.identityBlockSize))
        if chunkStart == 0 {
          result.firstBlockCRC = CRC32.checksum(chunk.prefix(GzipIndexFormat.identityBlockSize))
          guard chunk.count >= 2, chunk[0] == 0x1F, chunk[1] == 0x8B else {
            throw CotarError(.invalidTar, Self.notGzipMessage(chunk, identity: source.identity), offset: 0, source: source.identity)
          }
        }
        progress?(chunkStart)
      }
      if trailingZeros || (atMemberStart && chunk[position] == 0) {
        trailingZeros = true
        if let nonZero = chunk[position...].firstIndex(where: { $0 != 0 }) {
          throw CotarError(
            .invalidTar, "unexpected bytes after the last gzip member (after zero padding)",
            offset: chunkStart + UInt64(nonZero), source: source.identity)
        }
        position = chunk.count
        continue
      }
      if atMemberStart {
        atMemberStart = false
        try inflater.reset(mode: .gzip)
        result.members += 1
        memberStartU = total
        memberHistoryStart = fill
        if total - lastPointU >= max(1, spacing / 2) {
          startSegment(
            GzipSeekPoint(
              uncompressedOffset: total, compressedBitOffset: (chunkStart + UInt64(position)) * 8, kind: .memberStart),
            into: &result)
          lastPointU = total
        }
      }
      if historyCapacity - fill < 64 << 10 {
        // Keep the last 32 KiB, the most a window needs.
        let keep = GzipIndexFormat.windowSize
        history.withUnsafeMutableBytes { buffer in
          guard let base = buffer.baseAddress else { return }
          base.copyMemory(from: base + (fill - keep), byteCount: keep)
        }
        memberHistoryStart = max(0, memberHistoryStart - (fill - keep))
        fill = keep
      }
      let step: ZlibInflater.Step
      do {
        step = try inflater.inflate(
          chunk, from: position, into: &history, at: fill, count: historyCapacity - fill, stopAtBlocks: true)
      } catch {
        var located = error
        let offset = chunkStart + UInt64(position) + (error.offset ?? 0)
        located.offset = offset
        throw located.withSource(source.identity)
      }
      position += step.consumed
      segmentCRC = zlibCRC32(history, fill..<(fill + step.produced), continuing: segmentCRC)
      fill += step.produced
      total += UInt64(step.produced)
      if step.streamEnded {
        atMemberStart = true
        continue
      }
      let atBlockEnd = step.dataType & 128 != 0 && step.dataType & 64 == 0
      if windows, atBlockEnd, total > memberStartU, total - lastPointU >= spacing {
        let windowStart = max(memberHistoryStart, fill - GzipIndexFormat.windowSize)
        let window = Array(history[windowStart..<fill])
        let stored = try Deflate.compress(window)
        let bitOffset = (chunkStart + UInt64(position)) * 8 - UInt64(step.dataType & 7)
        startSegment(
          GzipSeekPoint(
            uncompressedOffset: total, compressedBitOffset: bitOffset, kind: .blockBoundary,
            windowOffset: UInt64(result.windows.count), windowLength: UInt32(stored.count),
            windowRawLength: UInt16(window.count)),
          into: &result)
        result.windows += stored
        lastPointU = total
      }
      if step.consumed == 0 && step.produced == 0 && position < chunk.count {
        throw CotarError(
          .invalidTar, "zlib made no progress in the gzip data",
          offset: chunkStart + UInt64(position), source: source.identity)
      }
    }
    guard atMemberStart || trailingZeros else {
      throw CotarError(
        .truncated, "the gzip data ends in the middle of a member", offset: size,
        source: source.identity)
    }
    result.uncompressedSize = total
    result.points[result.points.count - 1].segmentCRC = segmentCRC
    // A point at the very end (after an empty last member or block) starts nothing (and its
    // predecessor's segment already ends at the end).
    result.points.removeAll { $0.uncompressedOffset >= total && $0.uncompressedOffset > 0 }
    result.lastBlockCRC = CRC32.checksum(tail)
    if let spool, spool.written == size { result.spool = spool }
    return result
  }
}

extension GzipSeekPointScanner {
  /// Why `start` (the first bytes of the file `identity`, named as a `.tar.gz`) is not gzip:
  /// an uncompressed tar under a `.tar.gz` name is told to be renamed (its name decides how
  /// Cotar reads it, SPEC §13).
  static func notGzipMessage(_ start: [UInt8], identity: String) -> String {
    let plain = "not gzip data (no 1f 8b magic at the start)"
    guard isTarHeader(start) else { return plain }
    let renamed = GzipIndexFormat.plainTarName(for: ArchiveLocation.pathPart(of: identity))
    return "\(plain): it is an uncompressed tar named like a .tar.gz; rename it to \(renamed) (then 'cotar index \(renamed)' works)"
  }

  /// Whether `start` begins with a tar header block with a valid checksum.
  static func isTarHeader(_ start: [UInt8]) -> Bool {
    start.count >= TarHeader.blockSize
      && start.withUnsafeBytes { raw in
        (try? TarHeader.verifyChecksum(UnsafeRawBufferPointer(rebasing: raw[0..<TarHeader.blockSize]), offset: 0)) != nil
      }
  }
}
