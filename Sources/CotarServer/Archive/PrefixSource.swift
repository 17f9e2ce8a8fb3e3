import CotarCore

/// The first `length` bytes of another source (the tar part of a `.tar.co`), so that a
/// header scan stops where the index begins.
struct PrefixSource: RangeSource {
  let base: any RangeSource
  let length: UInt64

  var identity: String { base.identity }

  func size() async throws -> UInt64 { min(length, try await base.size()) }

  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    guard range.upperBound <= length else {
      throw CotarError(
        .truncated, "read of bytes \(range) runs past the end of the tar data (\(length))",
        offset: range.lowerBound, source: identity)
    }
    return try await base.read(range)
  }
}
