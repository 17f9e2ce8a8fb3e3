/// A source backed by bytes in memory: tests, small indexes, or a whole archive already loaded.
public struct MemorySource: SynchronousRangeSource {
  /// The bytes served.
  public let bytes: [UInt8]
  /// The identity used in messages and cache keys.
  public let identity: String

  /// Creates a source serving `bytes`.
  public init(_ bytes: [UInt8], identity: String = "memory") {
    self.bytes = bytes
    self.identity = identity
  }

  /// The byte count; never throws.
  public func size() async throws -> UInt64 { UInt64(bytes.count) }

  /// A copy of the bytes in `range`.
  ///
  /// - Throws: `CotarError` `.truncated` when `range` ends past the end of the bytes.
  public func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    guard range.upperBound <= UInt64(bytes.count) else {
      throw CotarError(
        .truncated, "source ends at byte \(bytes.count) but bytes up to \(range.upperBound) were requested",
        offset: range.lowerBound, source: identity)
    }
    return Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)])
  }

  /// Copies the bytes in `range` into the start of `buffer`.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when `buffer` is too small, `.truncated` when
  ///   `range` ends past the end of the bytes.
  public func readSync(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) throws {
    try checkCapacity(of: buffer, for: range)
    guard range.upperBound <= UInt64(bytes.count) else {
      throw CotarError(
        .truncated, "source ends at byte \(bytes.count) but bytes up to \(range.upperBound) were requested",
        offset: range.lowerBound, source: identity)
    }
    bytes.withUnsafeBytes { all in
      buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[Int(range.lowerBound)..<Int(range.upperBound)]))
    }
  }

  /// Copies the bytes in `range` into the start of `buffer`.
  ///
  /// - Throws: as ``readSync(_:into:)``.
  public func read(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) async throws {
    try readSync(range, into: buffer)
  }
}
