/// Inflates a slice of a gzip file from a seek point: what a read of a `.tar.gz` entry does.
enum GzipSliceInflater {
  /// The uncompressed bytes `[point.uncompressedOffset + skip, … + count)`.
  ///
  /// - Parameters:
  ///   - compressed: the compressed bytes from `point.compressedByteOffset` on (through at
  ///     least the end of the wanted data).
  ///   - point: where inflating starts.
  ///   - window: the point's inflated window (empty for a member start).
  ///   - skip: uncompressed bytes to drop first.
  ///   - count: uncompressed bytes wanted.
  ///   - identity: the archive, for errors.
  /// - Throws: `CotarError` `.truncated` when the compressed bytes end first, `.invalidTar`
  ///   when they are not valid gzip; both name the compressed byte offset.
  static func inflate(
    _ compressed: [UInt8], from point: GzipSeekPoint, window: [UInt8], skip: UInt64, count: Int, identity: String
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
    var result = [UInt8](repeating: 0, count: count)
    var filled = 0
    var toSkip = skip
    var scratch = [UInt8](repeating: 0, count: toSkip > 0 ? 64 << 10 : 0)
    var memberEnded = false
    while filled < count {
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
      let step: ZlibInflater.Step
      do {
        if toSkip > 0 {
          step = try inflater.inflate(
            compressed, from: input, into: &scratch, at: 0, count: Int(min(UInt64(scratch.count), toSkip)))
        } else {
          step = try inflater.inflate(compressed, from: input, into: &result, at: filled, count: count - filled)
        }
      } catch {
        var located = error
        located.offset = base + UInt64(input) + (error.offset ?? 0)
        located.message += " at compressed byte \(located.offset ?? 0)"
        throw located.withSource(identity)
      }
      input += step.consumed
      if toSkip > 0 { toSkip -= UInt64(step.produced) } else { filled += step.produced }
      if step.streamEnded {
        memberEnded = true
      } else if step.consumed == 0 && step.produced == 0 {
        throw CotarError(
          .truncated, "the gzip data ends in the middle of a member at compressed byte \(base + UInt64(input))",
          offset: base + UInt64(input), source: identity)
      }
    }
    return result
  }
}
