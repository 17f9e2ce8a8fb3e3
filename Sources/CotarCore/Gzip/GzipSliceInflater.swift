/// Inflates a slice of a gzip file from a seek point: what a read of a `.tar.gz` entry does.
enum GzipSliceInflater {
  /// A segment between two seek points whose uncompressed bytes are checked (SPEC §13.3).
  struct SegmentCheck: Sendable, Hashable {
    /// Where the segment starts, in uncompressed bytes after the starting point.
    var start: UInt64
    /// Where it ends, in uncompressed bytes after the starting point.
    var end: UInt64
    /// CRC-32 of its uncompressed bytes.
    var crc: UInt32
    /// Its first compressed byte (its point's), for errors.
    var compressedStart: UInt64
  }

  /// The uncompressed bytes `[point.uncompressedOffset + skip, … + count)`.
  ///
  /// With `checks`, inflating goes on to the end of the last checked segment (which must
  /// reach `skip + count`), and every segment is compared with its CRC-32 once complete, so
  /// a read that covers part of a segment is checked too.
  ///
  /// - Parameters:
  ///   - compressed: the compressed bytes from `point.compressedByteOffset` on (through at
  ///     least the end of the wanted data, and of the last checked segment).
  ///   - point: where inflating starts.
  ///   - window: the point's inflated window (empty for a member start).
  ///   - skip: uncompressed bytes to drop first.
  ///   - count: uncompressed bytes wanted.
  ///   - checks: consecutive segments from the point on, to check (empty: none).
  ///   - identity: the archive, for errors.
  /// - Throws: `CotarError` `.truncated` when the compressed bytes end first, `.invalidTar`
  ///   when they are not valid gzip or a segment's CRC-32 differs; all name the compressed
  ///   byte offset.
  static func inflate(
    _ compressed: [UInt8], from point: GzipSeekPoint, window: [UInt8], skip: UInt64, count: Int,
    checks: [SegmentCheck] = [], identity: String
  ) throws(CotarError) -> [UInt8] {
    let base = point.compressedByteOffset
    var input = 0
    let inflater: ZlibInflater
    do throws(CotarError) {
      switch point.kind {
      case .memberStart:
        inflater = try ZlibInflater(mode: .gzip)
      case .blockBoundary:
        inflater = try ZlibInflater(mode: .raw)
        let used = Int(point.compressedBitOffset % 8)
        if used != 0 {
          guard let first = compressed.first else {
            throw CotarError(.truncated, "no compressed bytes at the seek point", offset: base)
          }
          try inflater.prime(bits: 8 - used, value: first >> UInt8(used))
          input = 1
        }
        try inflater.setDictionary(window)
      }
    } catch {
      throw error.withSource(identity)
    }
    let keepEnd = skip + UInt64(count)
    // Checked segments are decoded whole: on past the wanted bytes to the last one's end.
    let total = max(keepEnd, checks.last?.end ?? 0)
    var result = [UInt8](repeating: 0, count: count)
    var scratch = [UInt8](repeating: 0, count: skip > 0 || total > keepEnd ? 64 << 10 : 0)
    var done: UInt64 = 0  // uncompressed bytes decoded after the point
    var check = 0
    var crc: UInt32 = 0
    var memberEnded = false
    while done < total {
      if memberEnded {
        // A raw stream started mid-member ends before the member's 8-byte trailer (CRC-32 and
        // size, which cannot be checked without the whole member); a gzip member's own
        // trailer was checked by zlib. Either way, the next member starts here.
        if inflater.mode == .raw { input += 8 }
        guard input < compressed.count else {
          throw CotarError(
            .truncated, "the gzip data ends at a member boundary before the entry's bytes",
            offset: base + UInt64(min(input, compressed.count)), source: identity)
        }
        do { try inflater.reset(mode: .gzip) } catch { throw error.withSource(identity) }
        memberEnded = false
      }
      // Stop at the next of: the wanted bytes' start or end, the end, a checked segment's end.
      var limit = done < skip ? skip : done < keepEnd ? keepEnd : total
      if check < checks.count { limit = min(limit, checks[check].end) }
      let step: ZlibInflater.Step
      let into: Int
      do {
        if done >= skip && done < keepEnd {
          into = Int(done - skip)
          step = try inflater.inflate(compressed, from: input, into: &result, at: into, count: Int(limit - done))
          if check < checks.count { crc = zlibCRC32(result, into..<(into + step.produced), continuing: crc) }
        } else {
          into = 0
          step = try inflater.inflate(
            compressed, from: input, into: &scratch, at: 0, count: Int(min(UInt64(scratch.count), limit - done)))
          if check < checks.count { crc = zlibCRC32(scratch, 0..<step.produced, continuing: crc) }
        }
      } catch {
        var located = error
        located.offset = base + UInt64(input) + (error.offset ?? 0)
        throw located.withSource(identity)
      }
      input += step.consumed
      done += UInt64(step.produced)
      while check < checks.count, done == checks[check].end {
        let segment = checks[check]
        guard crc == segment.crc else {
          throw CotarError(
            .invalidTar,
            "the gzip data is corrupt: the segment starting at this byte inflates to tar bytes \(point.uncompressedOffset + segment.start)..<\(point.uncompressedOffset + segment.end), which do not match the CRC-32 in the .tar.gz.index",
            offset: segment.compressedStart, source: identity)
        }
        check += 1
        crc = 0
      }
      if step.streamEnded {
        memberEnded = true
      } else if step.consumed == 0 && step.produced == 0 {
        throw CotarError(
          .truncated, "the gzip data ends in the middle of a member",
          offset: base + UInt64(input), source: identity)
      }
    }
    return result
  }
}
