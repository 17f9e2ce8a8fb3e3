import Synchronization

/// A decorator that counts the reads and bytes passing through to another source.
///
/// Tests use it to pin how many reads an operation makes; the CLI uses it for `--stats`.
public final class CountingSource: RangeSource {
  /// Read and byte totals.
  public struct Counts: Hashable, Sendable {
    /// Number of read calls (including suffix and prefix reads) that reached the base source.
    public var reads = 0
    /// Number of bytes returned.
    public var bytes: UInt64 = 0
    /// Number of ``size()`` calls.
    public var sizeCalls = 0
  }

  /// The source being counted.
  public let base: any RangeSource
  private let state = Mutex(Counts())

  /// Wraps `base`.
  public init(_ base: any RangeSource) { self.base = base }

  /// The identity of the base source.
  public var identity: String { base.identity }

  /// The counts so far.
  public var counts: Counts { state.withLock { $0 } }

  /// Sets the counts back to zero.
  public func reset() { state.withLock { $0 = Counts() } }

  /// Forwards to the base source.
  public func size() async throws -> UInt64 {
    state.withLock { $0.sizeCalls += 1 }
    return try await base.size()
  }

  /// Forwards to the base source and counts one read.
  public func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    let bytes = try await base.read(range)
    record(bytes.count)
    return bytes
  }

  /// Forwards to the base source and counts one read.
  public func read(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) async throws {
    try await base.read(range, into: buffer)
    record(Int(range.upperBound - range.lowerBound))
  }

  /// Forwards to the base source and counts one read.
  public func readSuffix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    let result = try await base.readSuffix(count: count)
    record(result.bytes.count)
    return result
  }

  /// Forwards to the base source and counts one read.
  public func readPrefix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    let result = try await base.readPrefix(count: count)
    record(result.bytes.count)
    return result
  }

  /// Counts one read of `count` bytes done around the source (a kernel copy of its file).
  package func record(_ count: Int) {
    state.withLock {
      $0.reads += 1
      $0.bytes += UInt64(count)
    }
  }
}
