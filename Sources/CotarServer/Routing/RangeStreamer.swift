import CotarCore
import Hummingbird
import NIOCore

/// Streams a byte range of a source to a response body.
///
/// A local source (``SynchronousRangeSource``) is read in `chunkSize` pieces, one after
/// another: each read is a `pread`. Any other source (a remote archive) is read ahead: up to
/// ``readAhead`` reads in flight at once, the first of `chunkSize` bytes and each next one
/// twice as large up to ``largestChunk``, written in order as they complete. An 8 MiB entry
/// then costs about a dozen upstream requests, four at a time, instead of 128 in sequence,
/// and a response never holds more than `readAhead × largestChunk` bytes.
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

  /// Whether the source is local (memory or a file, possibly counted): read in sequence.
  var isLocal: Bool {
    if source is any SynchronousRangeSource { return true }
    return (source as? CountingSource)?.base is any SynchronousRangeSource
  }

  /// The reads, in order: fixed chunks for a local source, growing ones for a remote one.
  func plan() -> [Range<UInt64>] {
    let growing = !isLocal
    var pieces: [Range<UInt64>] = []
    var offset = range.lowerBound
    var size = UInt64(max(1, chunkSize))
    let largest = UInt64(max(chunkSize, Self.largestChunk))
    while offset < range.upperBound {
      let end = min(range.upperBound, offset + size)
      pieces.append(offset..<end)
      offset = end
      if growing { size = min(largest, size * 2) }
    }
    return pieces
  }

  /// Writes every byte of ``range`` to `writer`, then finishes it.
  ///
  /// - Throws: the first error of a read or a write; reads still in flight are cancelled.
  func write(to writer: inout any ResponseBodyWriter) async throws {
    let pieces = plan()
    let depth = isLocal ? 1 : Self.readAhead
    var pending: [Task<[UInt8], any Error>] = []
    defer { for task in pending { task.cancel() } }
    var next = 0
    let source = self.source
    func launch() {
      while pending.count < depth, next < pieces.count {
        let piece = pieces[next]
        pending.append(Task { try await source.read(piece) })
        next += 1
      }
    }
    launch()
    while !pending.isEmpty {
      let bytes = try await pending.removeFirst().value
      // Wait for the connection's send window before reading further ahead, so a stalled
      // client holds at most the reads in flight plus the window.
      try await SendWindow.current?.reserve(bytes.count, stallTimeout: stallTimeout)
      launch()
      try await writer.write(ByteBuffer(bytes: bytes))
    }
    try await writer.finish(nil)
  }
}
