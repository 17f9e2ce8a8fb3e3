/// Escaping for text placed in HTML.
package enum HTMLText {
  /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references, safe in element
  /// content and in quoted attribute values.
  package static func escaped(_ text: some StringProtocol) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text.unicodeScalars {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(character)
      }
    }
    return out
  }

  /// Raw name bytes for display: UTF-8 with invalid bytes replaced, then escaped.
  package static func escaped(bytes: some Collection<UInt8>) -> String {
    escaped(String(decoding: Array(bytes), as: UTF8.self))
  }

  /// A URL path for raw bytes, percent-encoded and then HTML-escaped (`&` and `'` are legal
  /// in paths), ready for an attribute value.
  package static func urlPath(_ bytes: some Collection<UInt8>) -> String {
    var out: [UInt8] = []
    PercentEncoding.appendEncodedPath(bytes, to: &out)
    return escaped(String(decoding: out, as: UTF8.self))
  }

  /// Bytes as a query value: everything but RFC 3986 unreserved characters percent-encoded.
  package static func queryValue(_ bytes: some Collection<UInt8>) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in bytes {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        out.append(byte)
      default:
        out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// `1536` → `1.5 KiB`.
  package static func size(_ bytes: UInt64) -> String {
    if bytes < 1024 { return "\(bytes) B" }
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
    var value = Double(bytes) / 1024
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    let tenths = (value * 10).rounded() / 10
    return "\(tenths) \(units[unit])"
  }
}
