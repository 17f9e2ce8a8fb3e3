/// The outcome of a `Range` request header against a representation of known length
/// (RFC 9110 §14: single byte ranges only).
package enum ByteRangeRequest: Hashable, Sendable {
  /// No usable `Range` header: send the whole representation with 200. Syntactically
  /// invalid headers, other units and multi-range requests are ignored this way, as RFC 9110
  /// allows.
  case whole
  /// Send these bytes with 206 and `Content-Range: bytes first-last/length`.
  case partial(Range<UInt64>)
  /// Answer 416 with `Content-Range: bytes */length`.
  case unsatisfiable

  /// Interprets `header` (`bytes=a-b`, `bytes=a-`, `bytes=-n`) for a representation of
  /// `length` bytes.
  ///
  /// A last position past the end is clamped; a suffix longer than the representation means
  /// all of it; a first position at or past the end, or a zero-length suffix, is
  /// unsatisfiable. An empty representation has no satisfiable range except a suffix, which
  /// is answered with the (empty) whole.
  package init(header: String?, length: UInt64) {
    guard let header, let spec = Self.singleSpec(header) else {
      self = .whole
      return
    }
    switch spec {
    case .suffix(let count):
      if count == 0 {
        self = .unsatisfiable
      } else if length == 0 {
        self = .whole
      } else {
        self = .partial((length - min(count, length))..<length)
      }
    case .from(let first, let last):
      guard first < length else {
        self = .unsatisfiable
        return
      }
      let end = last.map { min($0, length - 1) } ?? (length - 1)
      self = .partial(first..<(end + 1))
    }
  }

  private enum Spec {
    case from(UInt64, UInt64?)
    case suffix(UInt64)
  }

  /// Parses `bytes=<one range-spec>`; `nil` for anything else (ignored per RFC 9110).
  private static func singleSpec(_ header: String) -> Spec? {
    let trimmed = header.trimmingASCIISpaces()
    guard let equals = trimmed.firstIndex(of: "=") else { return nil }
    guard trimmed[..<equals].trimmingASCIISpaces().lowercased() == "bytes" else { return nil }
    let set = trimmed[trimmed.index(after: equals)...]
    let specs = set.split(separator: ",", omittingEmptySubsequences: true).map { $0.trimmingASCIISpaces() }
      .filter { !$0.isEmpty }
    guard specs.count == 1, let spec = specs.first, let dash = spec.firstIndex(of: "-") else { return nil }
    let firstText = spec[..<dash]
    let lastText = spec[spec.index(after: dash)...]
    if firstText.isEmpty {
      guard let count = parseDigits(lastText) else { return nil }
      return .suffix(count)
    }
    guard let first = parseDigits(firstText) else { return nil }
    if lastText.isEmpty { return .from(first, nil) }
    guard let last = parseDigits(lastText), last >= first else { return nil }
    return .from(first, last)
  }

  /// Decimal digits only (no sign, no spaces); saturates at `UInt64.max` on overflow.
  private static func parseDigits(_ text: Substring) -> UInt64? {
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
      return nil
    }
    return UInt64(text) ?? UInt64.max
  }
}

extension StringProtocol {
  /// The text without leading and trailing spaces and tabs (HTTP OWS).
  func trimmingASCIISpaces() -> Substring {
    let characters = self[...]
    guard let start = characters.firstIndex(where: { $0 != " " && $0 != "\t" }),
      let end = characters.lastIndex(where: { $0 != " " && $0 != "\t" })
    else { return Substring("") }
    return Substring(characters[start...end])
  }
}
