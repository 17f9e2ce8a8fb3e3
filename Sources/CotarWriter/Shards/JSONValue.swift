import CotarCore

/// A minimal JSON value, enough to read and write shard manifests without Foundation.
enum JSONValue: Equatable, Sendable {
  case object([(String, JSONValue)])
  case array([JSONValue])
  case string(String)
  /// The number's text, converted on use (sizes need all 64 bits).
  case number(String)
  case bool(Bool)
  case null

  static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    case (.array(let a), .array(let b)): a == b
    case (.string(let a), .string(let b)): a == b
    case (.number(let a), .number(let b)): a == b
    case (.bool(let a), .bool(let b)): a == b
    case (.null, .null): true
    default: false
    }
  }

  /// The member `key` of an object.
  subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.0 == key }?.1
  }

  var stringValue: String? {
    if case .string(let text) = self { return text }
    return nil
  }

  var uint64Value: UInt64? {
    if case .number(let text) = self { return UInt64(text) }
    return nil
  }

  var arrayValue: [JSONValue]? {
    if case .array(let items) = self { return items }
    return nil
  }

  /// Compact-but-readable text: objects one member per line at the top two levels.
  func serialized(indent: Int = 0) -> String {
    let pad = String(repeating: "  ", count: indent + 1)
    let closing = String(repeating: "  ", count: indent)
    switch self {
    case .object(let members):
      if members.isEmpty { return "{}" }
      if indent >= 2 {
        return "{" + members.map { "\(JSONText.quoted($0.0)): \($0.1.serialized(indent: indent + 1))" }.joined(separator: ", ") + "}"
      }
      return "{\n" + members.map { "\(pad)\(JSONText.quoted($0.0)): \($0.1.serialized(indent: indent + 1))" }.joined(separator: ",\n")
        + "\n\(closing)}"
    case .array(let items):
      if items.isEmpty { return "[]" }
      return "[\n" + items.map { pad + $0.serialized(indent: indent + 1) }.joined(separator: ",\n") + "\n\(closing)]"
    case .string(let text): return JSONText.quoted(text)
    case .number(let text): return text
    case .bool(let value): return value ? "true" : "false"
    case .null: return "null"
    }
  }

  /// Parses JSON text.
  ///
  /// - Throws: `CotarError` `.invalidArgument` naming the byte offset of the first error.
  init(parsing bytes: [UInt8]) throws(CotarError) {
    var parser = JSONParser(bytes: bytes)
    parser.skipSpace()
    self = try parser.value(depth: 0)
    parser.skipSpace()
    guard parser.position == bytes.count else { throw parser.error("unexpected text after the JSON value") }
  }
}

/// A recursive-descent JSON parser with a depth limit.
private struct JSONParser {
  let bytes: [UInt8]
  var position = 0
  static let maximumDepth = 64

  init(bytes: [UInt8]) { self.bytes = bytes }

  func error(_ message: String) -> CotarError {
    CotarError(.invalidArgument, "invalid JSON: \(message)", offset: UInt64(position))
  }

  mutating func skipSpace() {
    while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
  }

  mutating func expect(_ literal: String) throws(CotarError) {
    let utf8 = Array(literal.utf8)
    guard position + utf8.count <= bytes.count, Array(bytes[position..<(position + utf8.count)]) == utf8 else {
      throw error("expected '\(literal)'")
    }
    position += utf8.count
  }

  mutating func value(depth: Int) throws(CotarError) -> JSONValue {
    guard depth < Self.maximumDepth else { throw error("nested too deeply") }
    guard position < bytes.count else { throw error("unexpected end") }
    switch bytes[position] {
    case UInt8(ascii: "{"):
      position += 1
      var members: [(String, JSONValue)] = []
      skipSpace()
      if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
        position += 1
        return .object(members)
      }
      while true {
        skipSpace()
        let key = try string()
        skipSpace()
        try expect(":")
        skipSpace()
        members.append((key, try value(depth: depth + 1)))
        skipSpace()
        guard position < bytes.count else { throw error("unterminated object") }
        if bytes[position] == UInt8(ascii: ",") {
          position += 1
          continue
        }
        try expect("}")
        return .object(members)
      }
    case UInt8(ascii: "["):
      position += 1
      var items: [JSONValue] = []
      skipSpace()
      if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
        position += 1
        return .array(items)
      }
      while true {
        skipSpace()
        items.append(try value(depth: depth + 1))
        skipSpace()
        guard position < bytes.count else { throw error("unterminated array") }
        if bytes[position] == UInt8(ascii: ",") {
          position += 1
          continue
        }
        try expect("]")
        return .array(items)
      }
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"):
      try expect("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expect("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expect("null")
      return .null
    default:
      let start = position
      while position < bytes.count, Array("+-0123456789.eE".utf8).contains(bytes[position]) { position += 1 }
      guard position > start else { throw error("unexpected character") }
      return .number(String(decoding: bytes[start..<position], as: UTF8.self))
    }
  }

  mutating func string() throws(CotarError) -> String {
    try expect("\"")
    var scalars = String.UnicodeScalarView()
    var raw: [UInt8] = []
    func flush() {
      scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
      raw.removeAll()
    }
    while position < bytes.count {
      let byte = bytes[position]
      position += 1
      if byte == UInt8(ascii: "\"") {
        flush()
        return String(scalars)
      }
      guard byte == UInt8(ascii: "\\") else {
        raw.append(byte)
        continue
      }
      guard position < bytes.count else { break }
      let escape = bytes[position]
      position += 1
      switch escape {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): raw.append(escape)
      case UInt8(ascii: "b"): raw.append(0x08)
      case UInt8(ascii: "f"): raw.append(0x0C)
      case UInt8(ascii: "n"): raw.append(0x0A)
      case UInt8(ascii: "r"): raw.append(0x0D)
      case UInt8(ascii: "t"): raw.append(0x09)
      case UInt8(ascii: "u"):
        flush()
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
          try expect("\\u")
          let low = try hex4()
          guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
        scalars.append(scalar)
      default: throw error("invalid escape")
      }
    }
    throw error("unterminated string")
  }

  mutating func hex4() throws(CotarError) -> UInt32 {
    guard position + 4 <= bytes.count else { throw error("short \\u escape") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let digit = UInt32(String(UnicodeScalar(bytes[position])), radix: 16) else { throw error("bad hex digit") }
      value = value << 4 | digit
      position += 1
    }
    return value
  }
}
