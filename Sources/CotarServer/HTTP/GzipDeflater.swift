import CotarCore

/// Streaming gzip compression, for listings sent to clients that accept `gzip`, over
/// CotarCore's gzip member deflater (the one place Cotar calls zlib's deflate).
///
/// Feed chunks with ``compress(_:emit:)`` and end with ``finish(emit:)``; output is emitted
/// in pieces of at most ``outputChunk`` bytes, so memory stays bounded by the input chunk.
/// Not thread-safe: one deflater belongs to one response.
final class GzipDeflater {
  private let zlib: ZlibGzipDeflater
  /// Largest piece passed to `emit`.
  let outputChunk: Int

  /// Creates a deflater writing one gzip member (RFC 1952) at zlib level 6.
  ///
  /// - Throws: `CotarError` `.io` when zlib cannot be initialised.
  init(outputChunk: Int = 64 << 10) throws {
    self.outputChunk = max(1024, outputChunk)
    zlib = try ZlibGzipDeflater(level: 6)
  }

  /// Compresses `input`, passing whatever output zlib produces to `emit`.
  ///
  /// - Throws: `CotarError` `.io` on a zlib failure, or what `emit` throws.
  func compress(_ input: [UInt8], emit: ([UInt8]) async throws -> Void) async throws {
    try await send(try deflate(input, finish: false), emit: emit)
  }

  /// Ends the stream (the gzip trailer) and emits the rest.
  ///
  /// - Throws: as ``compress(_:emit:)``.
  func finish(emit: ([UInt8]) async throws -> Void) async throws {
    try await send(try deflate([], finish: true), emit: emit)
  }

  private func deflate(_ input: [UInt8], finish: Bool) throws -> [UInt8] {
    let result: Result<[UInt8], CotarError> = input.withUnsafeBytes { bytes in
      Result { () throws(CotarError) -> [UInt8] in try zlib.deflate(bytes, finish: finish) }
    }
    return try result.get()
  }

  private func send(_ output: [UInt8], emit: ([UInt8]) async throws -> Void) async throws {
    var start = 0
    while start < output.count {
      let end = min(output.count, start + outputChunk)
      try await emit(Array(output[start..<end]))
      start = end
    }
  }
}
