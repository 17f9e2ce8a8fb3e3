import CotarCore

/// Streaming gzip decompression, for clients that do not accept `gzip`, over CotarCore's
/// zlib inflater (the one place Cotar calls zlib's inflate).
///
/// Feed compressed chunks with ``inflate(_:maximumOutput:emit:)``; each call passes the output
/// on in pieces of at most `maximumOutput` bytes, so memory stays bounded whatever the
/// compression ratio. Concatenated gzip members are decoded one after the other. Not
/// thread-safe: one inflater belongs to one response.
final class GzipInflater {
  private let zlib: ZlibInflater
  private var finished = false

  /// Creates an inflater for gzip data (RFC 1952).
  ///
  /// - Throws: `CotarError` `.io` when zlib cannot be initialised.
  init() throws {
    zlib = try ZlibInflater(mode: .gzip)
  }

  /// Decompresses `input` and passes the output to `emit` in pieces of at most
  /// `maximumOutput` bytes.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when the data is not valid gzip, or what
  ///   `emit` throws.
  func inflate(_ input: [UInt8], maximumOutput: Int, emit: ([UInt8]) async throws -> Void) async throws {
    let capacity = max(1, maximumOutput)
    var consumed = 0
    while true {
      if finished && consumed == input.count { return }
      if finished {
        // Another gzip member follows (or trailing bytes, which zlib will reject).
        try zlib.reset(mode: .gzip)
        finished = false
      }
      let (step, output) = try inflateStep(input, from: consumed, capacity: capacity)
      consumed += step.consumed
      if step.streamEnded { finished = true }
      if step.produced > 0 {
        try await emit(output)
        if step.produced == capacity { continue }  // zlib may hold more output for the same input
      }
      if consumed == input.count { return }
      if step.consumed == 0 && step.produced == 0 && !step.streamEnded {
        throw CotarError(.invalidArgument, "zlib made no progress")
      }
    }
  }

  /// One inflate call from `input[consumed...]` into at most `capacity` new bytes; corrupt
  /// data is `.invalidArgument` here (the client's request cannot be answered as asked).
  private func inflateStep(_ input: [UInt8], from consumed: Int, capacity: Int) throws -> (ZlibInflater.Step, [UInt8]) {
    var output = [UInt8](repeating: 0, count: capacity)
    do {
      let step = try zlib.inflate(input, from: consumed, into: &output, at: 0, count: capacity)
      output.removeSubrange(step.produced...)
      return (step, output)
    } catch {
      throw error.code == .invalidTar ? CotarError(.invalidArgument, error.message) : error
    }
  }

  /// Checks that the whole stream ended cleanly.
  ///
  /// - Throws: `CotarError` `.truncated` when the gzip data stopped mid-stream.
  func finish() throws {
    guard finished else { throw CotarError(.truncated, "the gzip data ends before the end of its stream") }
  }
}
