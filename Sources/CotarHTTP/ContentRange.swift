/// A parsed `Content-Range` header (RFC 9110 §14.4), bytes unit only.
enum ContentRange: Hashable, Sendable {
  /// `bytes FIRST-LAST/COMPLETE` (`complete` is `nil` for `*`).
  case bytes(first: UInt64, last: UInt64, complete: UInt64?)
  /// `bytes */COMPLETE`, sent with 416.
  case unsatisfied(complete: UInt64)

  /// Parses `value`; `nil` when it is not a well-formed bytes range, or when the range is
  /// longer than `Int.max` bytes (so its length can always be computed as an `Int`).
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
      guard let value = UInt64(completeText) else { return nil }
      complete = value
    }
    let rangeText = halves[0].trimmingSpaces()
    if rangeText == "*" {
      guard let complete else { return nil }
      self = .unsatisfied(complete: complete)
      return
    }
    let ends = rangeText.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
    guard ends.count == 2, let first = UInt64(ends[0]), let last = UInt64(ends[1]), first <= last else { return nil }
    // The body length last − first + 1 must fit an Int (no real response is that long).
    guard last - first < UInt64(Int.max) else { return nil }
    if let complete, last >= complete { return nil }
    self = .bytes(first: first, last: last, complete: complete)
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
