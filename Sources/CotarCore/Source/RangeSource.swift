/// A read-only, random-access byte source: a local file, a buffer, or a remote object.
///
/// ```
///  RangeSource                      identity, size(), read(_:)        ← implement these three
///   ├─ readSuffix(count:)           default: size(), then read(_:)    ← override: one request
///   ├─ readPrefix(count:)           default: size(), then read(_:)    ← override: one request
///   ├─ read(_:into:)                default: read(_:), then a copy    ← override: no allocation
///   └─ read(offset:count:)          extension only
///  SynchronousRangeSource           adds readSync(_:into:) for local, non-suspending reads
/// ```
///
/// A new source (a cloud store, a database blob, a cache) implements three requirements:
/// - ``identity``: a stable key, used in messages and as the cache key, holding no secrets;
/// - ``size()``: the total length, which may cost one round trip the first time;
/// - ``read(_:)``: exactly `range.count` bytes, or a thrown `CotarError`. A source that ends
///   early throws `.truncated`; it never returns fewer bytes. An empty range returns `[]`.
///
/// Reads are independent of each other (there is no shared cursor) and must be safe to call
/// concurrently. Throw ``CotarError`` only: wrap your transport's errors (as the `cause`), so
/// callers can switch on ``CotarError/code``; `.notFound` for a missing object,
/// `.sourceChanged` when the object changed between reads.
///
/// ``readSuffix(count:)`` and ``readPrefix(count:)`` are customisation points that a remote
/// source answers with one request each (an HTTP suffix range learns the size on the way),
/// so opening a `.tar.co` costs one request instead of two.
public protocol RangeSource: Sendable {
  /// A stable key for caches and messages, such as a path or a URL without credentials.
  var identity: String { get }

  /// The total length of the source in bytes.
  ///
  /// The first call may cost a round trip; conformers cache the answer.
  /// - Throws: `CotarError` (`.io`, `.httpStatus`, …).
  func size() async throws -> UInt64

  /// Returns exactly `range.count` bytes starting at `range.lowerBound`.
  ///
  /// An empty range returns `[]` without I/O.
  /// - Throws: `CotarError` `.truncated` when the source ends before `range.upperBound`,
  ///   `.io` on an operating-system error, `.rangeNotHonoured` or `.sourceChanged` for remote
  ///   sources.
  func read(_ range: Range<UInt64>) async throws -> [UInt8]

  /// Returns the last `count` bytes (all of them if the source is shorter) and the total size.
  ///
  /// The default calls ``size()`` and then ``read(_:)``.
  /// - Throws: as ``read(_:)``.
  func readSuffix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64)

  /// Returns the first `count` bytes (all of them if the source is shorter) and the total size.
  ///
  /// The default calls ``size()`` and then ``read(_:)``.
  /// - Throws: as ``read(_:)``.
  func readPrefix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64)

  /// Reads exactly `range.count` bytes starting at `range.lowerBound` into the start of
  /// `buffer`, so a caller can reuse one buffer for many reads.
  ///
  /// The default calls ``read(_:)`` and copies; ``FileSource`` reads straight into `buffer`.
  /// - Throws: `CotarError` `.invalidArgument` when `buffer` is smaller than the range, else
  ///   as ``read(_:)``.
  func read(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) async throws
}

extension RangeSource {
  /// Default suffix read: the size, then one range read.
  public func readSuffix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    let total = try await size()
    let length = min(UInt64(max(0, count)), total)
    return (try await read((total - length)..<total), total)
  }

  /// Default prefix read: the size, then one range read.
  public func readPrefix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    let total = try await size()
    let length = min(UInt64(max(0, count)), total)
    return (try await read(0..<length), total)
  }

  /// Default buffer read: ``read(_:)``, then a copy into `buffer`.
  public func read(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) async throws {
    try checkCapacity(of: buffer, for: range)
    let bytes = try await read(range)
    bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
  }

  /// Throws unless `buffer` can hold `range`.
  ///
  /// - Throws: `CotarError` `.invalidArgument`.
  package func checkCapacity(of buffer: UnsafeMutableRawBufferPointer, for range: Range<UInt64>) throws {
    guard UInt64(buffer.count) >= range.upperBound - range.lowerBound else {
      throw CotarError(
        .invalidArgument, "buffer of \(buffer.count) bytes cannot hold \(range.upperBound - range.lowerBound) bytes",
        offset: range.lowerBound, source: identity)
    }
  }

  /// Returns exactly `count` bytes starting at `offset`.
  ///
  /// - Throws: `CotarError` `.limitExceeded` if the range overflows, else as ``read(_:)``.
  public func read(offset: UInt64, count: Int) async throws -> [UInt8] {
    let (end, overflow) = offset.addingReportingOverflow(UInt64(max(0, count)))
    guard !overflow else {
      throw CotarError(.limitExceeded, "range of \(count) bytes at \(offset) overflows", offset: offset, source: identity)
    }
    return try await read(offset..<end)
  }
}

/// A source that can also read without suspending (a local file, memory).
///
/// ``Cotar`` uses it for an all-synchronous lookup-and-read when the index is in memory,
/// saving the cost of the async calls on the hottest local path.
public protocol SynchronousRangeSource: RangeSource {
  /// Reads exactly `range.count` bytes at `range.lowerBound` into the start of `buffer`.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when `buffer` is too small, `.truncated` when
  ///   the source ends early, `.io` on an operating-system error.
  func readSync(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) throws
}
