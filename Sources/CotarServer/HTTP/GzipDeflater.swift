import CZlib
import CotarCore

/// Streaming gzip compression with zlib, for listings sent to clients that accept `gzip`.
///
/// Feed chunks with ``compress(_:emit:)`` and end with ``finish(emit:)``; output is emitted
/// in pieces of at most ``outputChunk`` bytes, so memory stays bounded. Not thread-safe:
/// one deflater belongs to one response.
final class GzipDeflater {
  private let stream: UnsafeMutablePointer<z_stream>
  /// Largest piece passed to `emit`.
  let outputChunk: Int

  /// Creates a deflater writing gzip (RFC 1952) at zlib level 6.
  ///
  /// - Throws: `CotarError` `.io` when zlib cannot be initialised.
  init(outputChunk: Int = 64 << 10) throws {
    self.outputChunk = max(1024, outputChunk)
    stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    let status = deflateInit2_(
      stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else {
      stream.deallocate()
      throw CotarError(.io, "zlib deflateInit2 failed with status \(status)")
    }
  }

  deinit {
    deflateEnd(stream)
    stream.deallocate()
  }

  /// Compresses `input`, passing whatever output zlib produces to `emit`.
  ///
  /// - Throws: `CotarError` `.io` on a zlib failure, or what `emit` throws.
  func compress(_ input: [UInt8], emit: ([UInt8]) async throws -> Void) async throws {
    try await run(input, flush: Z_NO_FLUSH, emit: emit)
  }

  /// Ends the stream (the gzip trailer) and emits the rest.
  ///
  /// - Throws: as ``compress(_:emit:)``.
  func finish(emit: ([UInt8]) async throws -> Void) async throws {
    try await run([], flush: Z_FINISH, emit: emit)
  }

  private func run(_ input: [UInt8], flush: Int32, emit: ([UInt8]) async throws -> Void) async throws {
    var consumed = 0
    while true {
      let (status, used, output) = zlibStep(stream, input: input, consumed: consumed, capacity: outputChunk) {
        deflate($0, flush)
      }
      let produced = output.count
      consumed += used
      guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
        throw CotarError(.io, "zlib deflate failed with status \(status)")
      }
      if produced > 0 { try await emit(output) }
      if flush == Z_FINISH {
        if status == Z_STREAM_END { return }
        if produced == 0 && status == Z_BUF_ERROR { throw CotarError(.io, "zlib made no progress finishing") }
        continue
      }
      // All input taken and the output buffer not full: zlib holds nothing more for now.
      if consumed == input.count && produced < outputChunk { return }
    }
  }
}
