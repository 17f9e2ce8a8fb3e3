/// JSON string escaping shared by everything Cotar writes as JSON (manifests, listings,
/// `ls --json`, the bench report).
package enum JSONText {
  /// `text` with the escapes a JSON string needs (`"`, `\`, and control characters), without
  /// the surrounding quotes.
  package static func escaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// `text` as a quoted JSON string literal.
  package static func quoted(_ text: String) -> String { "\"" + escaped(text) + "\"" }
}
