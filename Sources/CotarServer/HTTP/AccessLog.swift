import CotarCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The access log, kept off the request path: a request appends its line to a memory
/// buffer, and a buffer goes to standard error in one `write(2)` when it holds 32 KiB, and
/// every buffer every 100 ms (and at shutdown, ``flush()``).
///
/// The buffer is sharded by thread, so the event-loop threads never wait for each other's
/// lines. Each `write` holds whole lines; lines of different threads may therefore appear
/// out of order by up to the flush interval (each line carries its own timestamp).
///
/// Lines look like `2026-11-29T21:20:26Z cotar.serve GET /v1/file/a.txt 200 6 0.214ms`.
final class AccessLog: Sendable {
  private struct Pending {
    var bytes: [UInt8] = []
    /// The second of ``stamp`` (the timestamp is formatted once a second, not per line).
    var second = Int.min
    var stamp: [UInt8] = []
  }

  /// One thread's share of the buffer.
  private final class Shard: Sendable {
    let pending = Mutex(Pending())
  }

  private let shards: [Shard]
  private let flusherStarted = Atomic<Bool>(false)
  private let descriptor: Int32
  /// Buffered bytes that trigger an immediate write.
  static let flushBytes = 32 << 10
  /// Buffer shards: threads map onto them by their identity.
  static let shardCount = 16

  /// Creates a log writing to `descriptor` (standard error by default).
  init(descriptor: Int32 = 2) {
    self.descriptor = descriptor
    shards = (0..<Self.shardCount).map { _ in Shard() }
  }

  /// Appends one line (a newline is added).
  func append(_ line: String) {
    let now = time(nil)
    let full = currentShard.pending.withLock { pending -> [UInt8]? in
      if pending.second != now {
        pending.second = now
        pending.stamp = Array((Self.timestamp(now) + " cotar.serve ").utf8)
      }
      if pending.bytes.isEmpty { pending.bytes.reserveCapacity(Self.flushBytes + 1024) }
      pending.bytes += pending.stamp
      pending.bytes += line.utf8
      pending.bytes.append(UInt8(ascii: "\n"))
      guard pending.bytes.count >= Self.flushBytes else { return nil }
      defer { pending.bytes = [] }
      return pending.bytes
    }
    if let full { write(full) }
    if !flusherStarted.load(ordering: .relaxed) { startFlusher() }
  }

  /// Writes whatever is buffered.
  func flush() {
    for shard in shards {
      let pending = shard.pending.withLock { pending -> [UInt8] in
        defer { pending.bytes = [] }
        return pending.bytes
      }
      if !pending.isEmpty { write(pending) }
    }
  }

  /// The calling thread's shard (threads are told apart by `pthread_self`).
  private var currentShard: Shard {
    #if canImport(Darwin)
      let thread = UInt64(UInt(bitPattern: pthread_self()))
    #else
      let thread = UInt64(pthread_self())
    #endif
    return shards[Int((thread &* 0x9E37_79B9_7F4A_7C15) >> 60) % shards.count]
  }

  private func write(_ bytes: [UInt8]) {
    // A log that cannot be written (closed stderr) must not fail requests.
    try? Syscall.write(descriptor, bytes[...])
  }

  private func startFlusher() {
    guard flusherStarted.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
    Task.detached { [weak self] in
      while !Task.isCancelled {
        try? await Task.sleep(for: .milliseconds(100))
        guard let self else { return }
        self.flush()
      }
    }
  }

  /// UTC time as `YYYY-MM-DDTHH:MM:SSZ` (now, or at `seconds` since 1970).
  static func timestamp(_ seconds: Int = time(nil)) -> String {
    var now = seconds
    var parts = tm()
    gmtime_r(&now, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
  }
}
