// A RangeSource over fuzz bytes that traps on any read outside the bytes a reader may touch.

/// Serves `bytes` and checks every read against `allowed` (the whole input by default; the
/// index alone once a reader has located it). A read outside it is an invariant violation,
/// not a `.truncated` error: readers must check bounds before they read.
final class CheckedSource: RangeSource, @unchecked Sendable {
  let bytes: [UInt8]
  let identity: String
  /// Reads must lie inside this range.
  var allowed: Range<UInt64>
  /// Every read so far, in order.
  private(set) var reads: [Range<UInt64>] = []

  init(_ bytes: [UInt8], identity: String = "fuzz") {
    self.bytes = bytes
    self.identity = identity
    self.allowed = 0..<UInt64(bytes.count)
  }

  func size() async throws -> UInt64 { UInt64(bytes.count) }

  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    invariant(
      range.isEmpty || (range.lowerBound >= allowed.lowerBound && range.upperBound <= allowed.upperBound),
      "read of \(range) outside \(allowed) (source of \(bytes.count) bytes)")
    reads.append(range)
    if range.isEmpty { return [] }
    return Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)])
  }
}
