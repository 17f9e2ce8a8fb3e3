import CZlib
import CotarCore

/// Streaming gzip decompression with zlib, for clients that do not accept `gzip`.
///
/// Feed compressed chunks with ``inflate(_:maximumOutput:)``; each call returns the output
/// produced so far in pieces of at most `maximumOutput` bytes, so memory stays bounded
/// whatever the compression ratio. Concatenated gzip members are decoded one after the
/// other. Not thread-safe: one inflater belongs to one response.
final class GzipInflater {
  private let stream: UnsafeMutablePointer<z_stream>
  private var finished = false

  /// Creates an inflater for gzip data (RFC 1952).
  ///
  /// - Throws: `CotarError` `.io` when zlib cannot be initialised.
  init() throws {
    stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    let status = inflateInit2_(stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else {
      stream.deallocate()
      throw CotarError(.io, "zlib inflateInit2 failed with status \(status)")
    }
  }

  deinit {
    inflateEnd(stream)
    stream.deallocate()
  }

  /// Decompresses `input` and passes the output to `emit` in pieces of at most
  /// `maximumOutput` bytes.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when the data is not valid gzip, or what
  ///   `emit` throws.
  func inflate(_ input: [UInt8], maximumOutput: Int, emit: ([UInt8]) async throws -> Void) async throws {
    var consumed = 0
    while true {
      if finished && consumed == input.count { return }
      if finished {
        // Another gzip member follows (or trailing bytes, which zlib will reject).
        guard inflateReset(stream) == Z_OK else { throw Self.error("cannot reset zlib") }
        finished = false
      }
      let (status, used, output) = zlibStep(stream, input: input, consumed: consumed, capacity: maximumOutput) {
        CZlib.inflate($0, Z_NO_FLUSH)
      }
      let produced = output.count
      consumed += used
      switch status {
      case Z_STREAM_END: finished = true
      case Z_OK, Z_BUF_ERROR: break
      default: throw Self.error("the gzip data is corrupt (zlib status \(status))")
      }
      if produced > 0 {
        try await emit(output)
        if produced == maximumOutput { continue }  // zlib may hold more output for the same input
      }
      if consumed == input.count { return }
      if used == 0 && produced == 0 && status != Z_STREAM_END { throw Self.error("zlib made no progress") }
    }
  }

  /// Checks that the whole stream ended cleanly.
  ///
  /// - Throws: `CotarError` `.truncated` when the gzip data stopped mid-stream.
  func finish() throws {
    guard finished else { throw CotarError(.truncated, "the gzip data ends before the end of its stream") }
  }

  private static func error(_ message: String) -> CotarError { CotarError(.invalidArgument, message) }
}
