/// Strong entity tags and the `If-None-Match` / `If-Range` comparisons of RFC 9110 §8.8.3.
package struct EntityTag: Hashable, Sendable, CustomStringConvertible {
  /// The opaque tag without quotes; ASCII letters, digits and `-` only.
  package var opaque: String

  /// Creates a strong tag from its opaque text (without quotes).
  package init(opaque: String) { self.opaque = opaque }

  /// The header form, in quotes: `"…"`.
  package var description: String { "\"\(opaque)\"" }

  /// The tag of one entry: the archive tag, the data offset and the size, in hex, plus a
  /// variant suffix (such as `gunzip` for a decompressed representation).
  package static func entry(archiveTag: String, offset: UInt64, size: UInt64, variant: String? = nil) -> EntityTag {
    var text = "\(archiveTag)-\(String(offset, radix: 16))-\(String(size, radix: 16))"
    if let variant { text += "-\(variant)" }
    return EntityTag(opaque: text)
  }

  /// Whether an `If-None-Match` header value matches this tag (weak comparison: `W/` is
  /// ignored; `*` matches any current representation).
  package func matches(ifNoneMatch header: String) -> Bool {
    for item in header.split(separator: ",") {
      var candidate = item.trimmingASCIISpaces()
      if candidate == "*" { return true }
      if candidate.hasPrefix("W/") { candidate = candidate.dropFirst(2) }
      if candidate == description { return true }
    }
    return false
  }

  /// Whether an `If-Match` header value matches this tag (strong comparison: a weak tag
  /// never matches; `*` matches any current representation).
  package func matches(ifMatch header: String) -> Bool {
    for item in header.split(separator: ",") {
      let candidate = item.trimmingASCIISpaces()
      if candidate == "*" || candidate == description { return true }
    }
    return false
  }

  /// Whether an `If-Range` header value allows a partial response (strong comparison: a
  /// weak tag never matches; a date matches only `lastModified` exactly).
  package func allowsRange(ifRange header: String, lastModified: HTTPDate?) -> Bool {
    let value = header.trimmingASCIISpaces()
    if value.hasPrefix("\"") { return value == description }
    if value.hasPrefix("W/") { return false }
    guard let date = HTTPDate(parsing: String(value)), let lastModified else { return false }
    return date == lastModified
  }
}
