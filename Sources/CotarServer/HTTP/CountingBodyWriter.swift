import Hummingbird
import NIOCore
import Synchronization

/// A thread-safe byte count shared between a body writer and the access log.
final class ByteCounter: Sendable {
  private let count = Atomic<Int>(0)
  /// Adds `bytes`.
  func add(_ bytes: Int) { count.add(bytes, ordering: .relaxed) }
  /// The bytes counted so far.
  var value: Int { count.load(ordering: .relaxed) }
}

/// Forwards body writes to another writer and counts the bytes.
struct CountingBodyWriter: ResponseBodyWriter {
  var base: any ResponseBodyWriter
  let counter: ByteCounter

  mutating func write(_ buffer: ByteBuffer) async throws {
    counter.add(buffer.readableBytes)
    try await base.write(buffer)
  }

  consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
    let base = self.base
    try await base.finish(trailingHeaders)
  }
}
