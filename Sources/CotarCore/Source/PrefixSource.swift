/// The first `length` bytes of another source, so a scan of the tar part of a `.tar.co`
/// ends where the index starts.
public struct PrefixSource: RangeSource {
  /// The underlying source.
  public let base: any RangeSource
  /// How many bytes of `base` are visible.
  public let length: UInt64

  /// Wraps `base`, exposing only its first `length` bytes.
  public init(_ base: any RangeSource, length: UInt64) {
    self.base = base
    self.length = length
  }

  /// The underlying source's identity.
  public var identity: String { base.identity }

  /// `length`, or less if the underlying source is shorter.
  public func size() async throws -> UInt64 { min(length, try await base.size()) }

  /// Reads from the underlying source.
  ///
  /// - Throws: `CotarError` `.truncated` past `length`, or as the underlying source.
  public func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    guard range.upperBound <= length else {
      throw CotarError(.truncated, "read past the end of the tar part (\(length) bytes)", offset: range.lowerBound, source: identity)
    }
    return try await base.read(range)
  }
}
