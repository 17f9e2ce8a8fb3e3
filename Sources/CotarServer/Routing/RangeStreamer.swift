import CotarCore
import Hummingbird
import NIOCore

/// Streams a byte range of a source to a response body through the library's streaming read
/// (``RangeChunks``), the same code path as `cotar get`.
///
/// A local source is read in `chunkSize` pieces, one after another (each read a `pread`). A
/// remote source is read ahead: up to ``readAhead`` reads in flight at once, the first of
/// `chunkSize` bytes and each next one twice as large up to ``largestChunk``, written in order.
/// An 8 MiB entry then costs about a dozen upstream requests, four at a time, instead of 128
/// in sequence, and a response never holds more than `(readAhead + 1) × largestChunk` bytes
/// (a server answers many clients at once, so its parts are smaller than `cotar get`'s).
struct RangeStreamer {
  /// Reads in flight at once for a remote source.
  static let readAhead = 4
  /// Largest single read for a remote source.
  static let largestChunk = 1 << 20

  let source: any RangeSource
  let range: Range<UInt64>
  let chunkSize: Int
  /// How long a write may wait for the client to take bytes (``SendWindow``).
  var stallTimeout: Duration = .seconds(60)
  /// Bytes already read (and checked) that come before ``range``, written first.
  var first: ByteBuffer?

  /// The streaming options: `chunkSize` pieces, growing to ``largestChunk`` for a remote source.
  var options: StreamOptions {
    StreamOptions(chunkSize: chunkSize, partSize: max(chunkSize, Self.largestChunk), partsInFlight: Self.readAhead)
  }

  /// Writes every byte of ``range`` to `writer`, then finishes it.
  ///
  /// - Throws: the first error of a read or a write; reads still in flight are cancelled.
  func write(to writer: inout any ResponseBodyWriter) async throws {
    if let first {
      try await SendWindow.current?.reserve(first.readableBytes, stallTimeout: stallTimeout)
      try await writer.write(first)
    }
    for try await bytes in RangeChunks(source: source, range: range, options: options) {
      // Wait for the connection's send window before taking more from the stream, so a
      // stalled client holds at most the stream's read-ahead plus the window.
      try await SendWindow.current?.reserve(bytes.count, stallTimeout: stallTimeout)
      try await writer.write(ByteBuffer(bytes: bytes))
    }
    try await writer.finish(nil)
  }
}
