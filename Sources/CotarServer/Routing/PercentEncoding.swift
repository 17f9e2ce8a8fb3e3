/// Percent-decoding of request paths and percent-encoding of entry paths in URLs (RFC 3986).
///
/// Entry paths are raw bytes (not necessarily UTF-8), so both directions work on bytes. The
/// file is self-contained (no CotarCore import): the `route` fuzz target compiles it alone.
package enum PercentEncoding {
  /// Decodes `%XX` escapes in `text` to raw bytes; other bytes are kept as they are.
  ///
  /// `+` is not a space in a path. No dot-segment removal or other normalisation happens:
  /// `..` stays `..`, because entry paths are hash keys, never file-system paths.
  /// - Returns: the decoded bytes, or `nil` when an escape is malformed (`%`, `%4`, `%zz`).
  package static func decode(_ text: Substring.UTF8View) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(text.count)
    var iterator = text.makeIterator()
    while let byte = iterator.next() {
      guard byte == UInt8(ascii: "%") else {
        out.append(byte)
        continue
      }
      guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
        return nil
      }
      out.append(high << 4 | low)
    }
    return out
  }

  /// Decodes `%XX` escapes in a string; see ``decode(_:)-(Substring.UTF8View)``.
  ///
  /// - Returns: the decoded bytes, or `nil` when an escape is malformed.
  package static func decode(_ text: String) -> [UInt8]? { decode(Substring(text).utf8) }

  /// Appends `path` to `out` as a URL path: `/` is kept, bytes outside RFC 3986 `pchar` are
  /// escaped, and the dot segments `.` and `..` are escaped (`%2E`) so that clients which
  /// normalise URLs do not remove them.
  package static func appendEncodedPath(_ path: some Collection<UInt8>, to out: inout [UInt8]) {
    var segmentStart = out.count
    var segmentLength = 0
    var segmentDots = 0
    func closeSegment(_ out: inout [UInt8]) {
      if segmentLength > 0, segmentLength == segmentDots, segmentLength <= 2 {
        out.removeSubrange(segmentStart...)
        for _ in 0..<segmentLength { out += [UInt8(ascii: "%"), UInt8(ascii: "2"), UInt8(ascii: "E")] }
      }
    }
    for byte in path {
      if byte == UInt8(ascii: "/") {
        closeSegment(&out)
        out.append(byte)
        segmentStart = out.count
        segmentLength = 0
        segmentDots = 0
        continue
      }
      segmentLength += 1
      if byte == UInt8(ascii: ".") { segmentDots += 1 }
      if isPathCharacter(byte) {
        out.append(byte)
      } else {
        out += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
      }
    }
    closeSegment(&out)
  }

  private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  /// RFC 3986 `pchar` minus `%`: unreserved, sub-delims, `:` and `@`.
  private static func isPathCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      true
    case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
      UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
      UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
      UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"):
      true
    default: false
    }
  }
}
