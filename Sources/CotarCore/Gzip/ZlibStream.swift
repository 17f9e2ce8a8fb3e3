import CZlib

/// The only place Cotar calls zlib for gzip (the `.tar.gz` support here, and `cotar serve`'s
/// gzip responses through `package` access; the name table keeps its own block codec in
/// `Names/Deflate.swift`): a streaming inflater that can start in the
/// middle of a deflate stream (zran's technique: `inflatePrime` for the bit offset,
/// `inflateSetDictionary` for the 32 KiB window), and a gzip member deflater.
///
/// Not thread-safe: one instance belongs to one read or one write.
package final class ZlibInflater {
  /// What the inflater expects at the start of its input.
  package enum Mode {
    /// A gzip member (RFC 1952): header, deflate data, CRC-32 and size trailer, all checked.
    case gzip
    /// Raw deflate data (RFC 1951), as in the middle of a gzip member.
    case raw

    var windowBits: Int32 { self == .gzip ? 16 + MAX_WBITS : -MAX_WBITS }
  }

  /// The outcome of one ``inflate(_:into:stopAtBlocks:)`` call.
  package struct Step {
    /// Input bytes taken.
    package var consumed: Int
    /// Output bytes produced.
    package var produced: Int
    /// The deflate stream (of a raw stream) or the gzip member ended.
    package var streamEnded: Bool
    /// zlib's `data_type` after the call: unused bits in the last input byte (low 3 bits),
    /// +64 in the last block, +128 just after an end-of-block code or a complete header.
    package var dataType: Int32
  }

  private let stream: UnsafeMutablePointer<z_stream>
  private(set) var mode: Mode

  /// Creates an inflater.
  ///
  /// - Throws: `CotarError` `.io` when zlib cannot be initialised (out of memory).
  package init(mode: Mode) throws(CotarError) {
    stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    self.mode = mode
    let status = inflateInit2_(stream, mode.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else {
      stream.deallocate()
      throw CotarError(.io, "zlib inflateInit2 failed with status \(status)")
    }
  }

  deinit {
    inflateEnd(stream)
    stream.deallocate()
  }

  /// Starts over in `mode`, as for the next gzip member.
  ///
  /// - Throws: `CotarError` `.io` when zlib refuses.
  package func reset(mode: Mode) throws(CotarError) {
    self.mode = mode
    let status = inflateReset2(stream, mode.windowBits)
    guard status == Z_OK else { throw CotarError(.io, "zlib inflateReset2 failed with status \(status)") }
  }

  /// Feeds the low `bits` (1–7) bits of `value` before the next input byte.
  ///
  /// - Throws: `CotarError` `.io` when zlib refuses.
  func prime(bits: Int, value: UInt8) throws(CotarError) {
    let status = inflatePrime(stream, Int32(bits), Int32(value))
    guard status == Z_OK else { throw CotarError(.io, "zlib inflatePrime failed with status \(status)") }
  }

  /// Sets the 32 KiB history that back-references of a raw stream may reach into.
  ///
  /// - Throws: `CotarError` `.io` when zlib refuses.
  func setDictionary(_ window: [UInt8]) throws(CotarError) {
    guard !window.isEmpty else { return }
    let status = window.withUnsafeBufferPointer { inflateSetDictionary(stream, $0.baseAddress, UInt32($0.count)) }
    guard status == Z_OK else { throw CotarError(.io, "zlib inflateSetDictionary failed with status \(status)") }
  }

  /// Inflates from `input` into `output`.
  ///
  /// - Parameter stopAtBlocks: return at every deflate block boundary (`Z_BLOCK`), so a
  ///   caller can record seek points.
  /// - Returns: what the call did; a `Z_BUF_ERROR` (no progress possible) is not an error.
  /// - Throws: `CotarError` `.invalidTar` with zlib's message when the data is corrupt
  ///   (the caller adds the compressed offset), `.io` when zlib runs out of memory.
  func inflate(
    _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, stopAtBlocks: Bool = false
  ) throws(CotarError) -> Step {
    let inCount = min(input.count, Int(UInt32.max))
    let outCount = min(output.count, Int(UInt32.max))
    stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
    stream.pointee.avail_in = UInt32(inCount)
    stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
    stream.pointee.avail_out = UInt32(outCount)
    let status = CZlib.inflate(stream, stopAtBlocks ? Z_BLOCK : Z_NO_FLUSH)
    let step = Step(
      consumed: inCount - Int(stream.pointee.avail_in), produced: outCount - Int(stream.pointee.avail_out),
      streamEnded: status == Z_STREAM_END, dataType: stream.pointee.data_type)
    let message = stream.pointee.msg.map { String(cString: $0) }
    stream.pointee.next_in = nil
    stream.pointee.next_out = nil
    switch status {
    case Z_OK, Z_STREAM_END, Z_BUF_ERROR: return step
    case Z_MEM_ERROR: throw CotarError(.io, "zlib ran out of memory")
    default:
      var error = CotarError(.invalidTar, "the gzip data is corrupt (\(message ?? "zlib status \(status)"))")
      // Where the bad bytes are within `input`; the caller turns it into a file offset.
      error.offset = UInt64(step.consumed)
      throw error
    }
  }
}

extension ZlibInflater {
  /// ``inflate(_:into:stopAtBlocks:)`` from `input[inputStart...]` into
  /// `output[outputStart..<outputStart + outputCount]`.
  ///
  /// - Throws: as ``inflate(_:into:stopAtBlocks:)``.
  package func inflate(
    _ input: [UInt8], from inputStart: Int, into output: inout [UInt8], at outputStart: Int, count outputCount: Int,
    stopAtBlocks: Bool = false
  ) throws(CotarError) -> Step {
    let inStart = min(max(0, inputStart), input.count)
    let outStart = min(max(0, outputStart), output.count)
    let outEnd = min(output.count, outStart + max(0, outputCount))
    let result: Result<Step, CotarError> = input.withUnsafeBytes { source in
      output.withUnsafeMutableBytes { target in
        Result { () throws(CotarError) -> Step in
          try inflate(
            UnsafeRawBufferPointer(rebasing: source[inStart...]),
            into: UnsafeMutableRawBufferPointer(rebasing: target[outStart..<outEnd]), stopAtBlocks: stopAtBlocks)
        }
      }
    }
    return try result.get()
  }
}

/// Writes one complete gzip member (RFC 1952) per call: what `cotar tar --gzip` concatenates.
package final class ZlibGzipDeflater {
  private let stream: UnsafeMutablePointer<z_stream>

  /// Creates a deflater at `level` (0–9).
  ///
  /// - Throws: `CotarError` `.io` when zlib cannot be initialised.
  package init(level: Int32) throws(CotarError) {
    stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    let status = deflateInit2_(
      stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else {
      stream.deallocate()
      throw CotarError(.io, "zlib deflateInit2 failed with status \(status)")
    }
  }

  deinit {
    deflateEnd(stream)
    stream.deallocate()
  }

  /// Compresses `input` (may be empty) into a new gzip member; pass `finish` on the last piece.
  ///
  /// - Returns: the compressed bytes produced by this call.
  /// - Throws: `CotarError` `.io` when zlib fails.
  package func deflate(_ input: UnsafeRawBufferPointer, finish: Bool) throws(CotarError) -> [UInt8] {
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
    stream.pointee.avail_in = UInt32(min(input.count, Int(UInt32.max)))
    defer {
      stream.pointee.next_in = nil
      stream.pointee.next_out = nil
    }
    while true {
      let (status, produced) = chunk.withUnsafeMutableBufferPointer { out in
        stream.pointee.next_out = out.baseAddress
        stream.pointee.avail_out = UInt32(out.count)
        let status = CZlib.deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
        return (status, out.count - Int(stream.pointee.avail_out))
      }
      result.append(contentsOf: chunk[0..<produced])
      switch status {
      case Z_STREAM_END:
        guard deflateReset(stream) == Z_OK else { throw CotarError(.io, "zlib deflateReset failed") }
        return result
      case Z_OK, Z_BUF_ERROR:
        if !finish && stream.pointee.avail_in == 0 && produced < chunk.count { return result }
      default: throw CotarError(.io, "zlib deflate failed with status \(status)")
      }
    }
  }
}

/// `bytes` as one complete gzip member (RFC 1952) at zlib `level` (0–9): what `cotar tar
/// --gzip` concatenates.
///
/// - Throws: `CotarError` `.io` when zlib fails.
package func gzipMember(_ bytes: ArraySlice<UInt8>, level: Int32) throws(CotarError) -> [UInt8] {
  let deflater = try ZlibGzipDeflater(level: level)
  let result: Result<[UInt8], CotarError> = bytes.withUnsafeBytes { input in
    Result { () throws(CotarError) -> [UInt8] in try deflater.deflate(input, finish: true) }
  }
  return try result.get()
}

/// zlib's CRC-32 (the CRC-32 of SPEC §12.2, several times faster than the table loop in
/// ``CRC32``) of `bytes`, continuing `crc` (0 to start).
package func zlibCRC32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
  guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
  var value = UInt(crc)
  var start = base.assumingMemoryBound(to: UInt8.self)
  var left = bytes.count
  while left > 0 {
    let piece = min(left, Int(UInt32.max))
    value = CZlib.crc32(value, start, UInt32(piece))
    start += piece
    left -= piece
  }
  return UInt32(truncatingIfNeeded: value)
}

/// ``zlibCRC32(_:continuing:)`` of `bytes[range]`.
package func zlibCRC32(_ bytes: [UInt8], _ range: Range<Int>, continuing crc: UInt32 = 0) -> UInt32 {
  bytes.withUnsafeBytes { zlibCRC32(UnsafeRawBufferPointer(rebasing: $0[range]), continuing: crc) }
}
