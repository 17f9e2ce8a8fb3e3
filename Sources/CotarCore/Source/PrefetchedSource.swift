/// A decorator that answers reads from one window of bytes already fetched from its base
/// source, and passes every other read through.
///
/// ``Cotar/open(_:options:)`` and ``Cotar/open(tar:index:options:)`` wrap a remote source in
/// one, holding the bytes of their speculative read (the suffix of a `.tar.co`, the prefix of
/// a sidecar index), so that later reads of the same opened archive inside those bytes — an
/// entry's data near the end of a `.tar.co`, its name table, the index header and footer, or
/// anything at all when the first answer held the whole object — cost no request (SPEC §8.3).
/// The window came from the same read as the pinned version of the object (an HTTP source's
/// ETag), so a read served from it never mixes versions. A read that starts before the window
/// and ends inside it asks the base only for the bytes before the window.
///
/// Memory: the window, fixed at creation (no more than the speculative read).
public struct PrefetchedSource: RangeSource {
  /// The source the window was read from.
  public let base: any RangeSource
  /// Where the window starts in `base`.
  public let windowStart: UInt64
  /// The bytes of `base` from ``windowStart``.
  public let window: [UInt8]
  /// The size of `base`, learnt by the read that fetched the window.
  public let totalSize: UInt64

  /// Wraps `base`, whose bytes from `windowStart` are `window` and whose size is `totalSize`.
  ///
  /// - Parameters:
  ///   - base: the source the window was read from.
  ///   - window: bytes of `base` starting at `windowStart`, ending at or before `totalSize`.
  ///   - windowStart: where `window` starts in `base`.
  ///   - totalSize: the size of `base`.
  ///   A window that would end past 2^64 − 1 is dropped (every read goes to `base`).
  public init(_ base: any RangeSource, window: [UInt8], at windowStart: UInt64, totalSize: UInt64) {
    let (end, overflow) = windowStart.addingReportingOverflow(UInt64(window.count))
    self.base = base
    self.window = overflow ? [] : window
    self.windowStart = overflow ? 0 : windowStart
    self.totalSize = overflow ? totalSize : max(totalSize, end)
  }

  /// The bytes of `base` the window holds.
  public var windowRange: Range<UInt64> { windowStart..<(windowStart + UInt64(window.count)) }

  /// The identity of the base source.
  public var identity: String { base.identity }

  /// The size learnt with the window; no I/O.
  public func size() async throws -> UInt64 { totalSize }

  /// How a read splits into bytes of the base source and bytes of the window.
  private enum Plan {
    /// Only the base source (the read misses the window, or holds it inside).
    case base
    /// Only the window, from this position in it.
    case window(Int)
    /// The base source up to the window's start, then the window's first `count` bytes.
    case headThenWindow(head: Range<UInt64>, count: Int)
    /// The window from this position to its end, then the base source.
    case windowThenTail(from: Int, tail: Range<UInt64>)
  }

  private func plan(_ range: Range<UInt64>) -> Plan {
    let held = windowRange
    guard range.lowerBound < held.upperBound, range.upperBound > held.lowerBound else { return .base }
    switch (range.lowerBound >= held.lowerBound, range.upperBound <= held.upperBound) {
    case (true, true): return .window(Int(range.lowerBound - held.lowerBound))
    case (false, true):
      return .headThenWindow(head: range.lowerBound..<held.lowerBound, count: Int(range.upperBound - held.lowerBound))
    case (true, false): return .windowThenTail(from: Int(range.lowerBound - held.lowerBound), tail: held.upperBound..<range.upperBound)
    case (false, false): return .base
    }
  }

  /// The bytes of `range`: from the window where it holds them, else from the base source.
  ///
  /// - Throws: as the base source's ``RangeSource/read(_:)`` for the bytes outside the window.
  public func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    if range.isEmpty { return [] }
    switch plan(range) {
    case .base:
      return try await base.read(range)
    case .window(let from):
      return Array(window[from..<(from + range.count)])
    case .headThenWindow(let head, let count):
      return try await base.read(head) + window[0..<count]
    case .windowThenTail(let from, let tail):
      return Array(window[from...]) + (try await base.read(tail))
    }
  }

  /// Reads `range` into the start of `buffer`: from the window where it holds the bytes, else
  /// from the base source.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when `buffer` is too small, else as the base
  ///   source's ``RangeSource/read(_:into:)``.
  public func read(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) async throws {
    if range.isEmpty { return }
    try checkCapacity(of: buffer, for: range)
    switch plan(range) {
    case .base:
      try await base.read(range, into: buffer)
    case .window(let from):
      copy(window[from..<(from + range.count)], into: buffer, at: 0)
    case .headThenWindow(let head, let count):
      try await base.read(head, into: buffer)
      copy(window[0..<count], into: buffer, at: head.count)
    case .windowThenTail(let from, let tail):
      let held = window.count - from
      copy(window[from...], into: buffer, at: 0)
      try await base.read(tail, into: UnsafeMutableRawBufferPointer(rebasing: buffer[held...]))
    }
  }

  private func copy(_ bytes: ArraySlice<UInt8>, into buffer: UnsafeMutableRawBufferPointer, at position: Int) {
    bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[position...]).copyMemory(from: $0) }
  }

  /// The last `count` bytes and the size: from the window when it ends at the end of the
  /// source and holds them (or the whole source), else from the base source.
  ///
  /// - Throws: as the base source's ``RangeSource/readSuffix(count:)``.
  public func readSuffix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    let count = max(0, count)
    if windowRange.upperBound == totalSize, count <= window.count || windowStart == 0 {
      return (Array(window.suffix(count)), totalSize)
    }
    return try await base.readSuffix(count: count)
  }

  /// The first `count` bytes and the size: from the window when it starts at byte 0 and holds
  /// them (or the whole source), else from the base source.
  ///
  /// - Throws: as the base source's ``RangeSource/readPrefix(count:)``.
  public func readPrefix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    let count = max(0, count)
    if windowStart == 0, count <= window.count || windowRange.upperBound == totalSize {
      return (Array(window.prefix(count)), totalSize)
    }
    return try await base.readPrefix(count: count)
  }
}
