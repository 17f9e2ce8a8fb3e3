/// A parsed `Content-Range` header (RFC 9110 §14.4), bytes unit only.
enum ContentRange: Hashable, Sendable {
  /// `bytes FIRST-LAST/COMPLETE` (`complete` is `nil` for `*`).
  case bytes(first: UInt64, last: UInt64, complete: UInt64?)
  /// `bytes */COMPLETE`, sent with 416.
  case unsatisfied(complete: UInt64)

  /// The largest position or length accepted (2^63 − 1): larger numbers are not a real
  /// object's size and would overflow `Int` arithmetic.
  static let largestNumber = UInt64(Int64.max)

  /// Parses `value`; `nil` when it is not a well-formed bytes range, a number in it is larger
  /// than ``largestNumber``, or the range is longer than `Int.max` bytes.
  init?(_ value: String) {
    let text = value.trimmingSpaces()
    guard text.hasPrefix("bytes ") else { return nil }
    let spec = text.dropFirst(6).trimmingSpaces()
    let halves = spec.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    guard halves.count == 2 else { return nil }
    let completeText = halves[1].trimmingSpaces()
    let complete: UInt64?
    if completeText == "*" {
      complete = nil
    } else {
      guard let value = UInt64(completeText), value <= Self.largestNumber else { return nil }
      complete = value
    }
    let rangeText = halves[0].trimmingSpaces()
    if rangeText == "*" {
      guard let complete else { return nil }
      self = .unsatisfied(complete: complete)
      return
    }
    let ends = rangeText.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
    guard ends.count == 2,
      let first = UInt64(ends[0]), let last = UInt64(ends[1]), first <= last,
      last <= Self.largestNumber,
      last - first < UInt64(Int.max)  // the length, last − first + 1, fits an Int
    else { return nil }
    if let complete, last >= complete { return nil }
    self = .bytes(first: first, last: last, complete: complete)
  }

  /// The number of bytes of a `.bytes` range (at most 2^63, so it fits `UInt64`).
  var length: UInt64? {
    guard case .bytes(let first, let last, _) = self else { return nil }
    return last - first + 1
  }

  /// The complete length, when the server stated it.
  var completeLength: UInt64? {
    switch self {
    case .bytes(_, _, let complete): complete
    case .unsatisfied(let complete): complete
    }
  }
}

extension StringProtocol {
  /// The text without leading and trailing spaces and tabs.
  func trimmingSpaces() -> String {
    var scalars = Substring(self).unicodeScalars[...]
    while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
    while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
    return String(String.UnicodeScalarView(scalars))
  }
}
