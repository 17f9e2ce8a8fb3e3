/// Member names in human-readable output, escaped as GNU tar's default `escape` quoting style
/// does, so a name cannot break a line-based pipeline or send a terminal escape sequence.

/// `bytes` escaped for human-readable output: a backslash as `\\`, the C0 controls as
/// `\a \b \t \n \v \f \r` or three octal digits (`\033` for ESC), DEL as `\177`. Every other
/// byte passes through unchanged. ``unescapedName(_:)`` reverses it.
package func escapedName(_ bytes: some Sequence<UInt8>) -> [UInt8] {
  var out: [UInt8] = []
  out.reserveCapacity(bytes.underestimatedCount)
  for byte in bytes {
    switch byte {
    case 0x5C: out += [0x5C, 0x5C]
    case 0x07: out += [0x5C, UInt8(ascii: "a")]
    case 0x08: out += [0x5C, UInt8(ascii: "b")]
    case 0x09: out += [0x5C, UInt8(ascii: "t")]
    case 0x0A: out += [0x5C, UInt8(ascii: "n")]
    case 0x0B: out += [0x5C, UInt8(ascii: "v")]
    case 0x0C: out += [0x5C, UInt8(ascii: "f")]
    case 0x0D: out += [0x5C, UInt8(ascii: "r")]
    case 0x00..<0x20, 0x7F:
      out += [0x5C, 0x30 + (byte >> 6), 0x30 + ((byte >> 3) & 7), 0x30 + (byte & 7)]
    default: out.append(byte)
    }
  }
  return out
}

/// `text` escaped as ``escapedName(_:)-(some Sequence<UInt8>)`` does, for messages.
package func escapedName(_ text: String) -> String {
  String(decoding: escapedName(Array(text.utf8)), as: UTF8.self)
}

/// Reverses ``escapedName(_:)-(some Sequence<UInt8>)``: `\\`, `\a \b \t \n \v \f \r` and
/// `\ooo` (one to three octal digits, up to `\377`) become the bytes they stand for; a
/// backslash before anything else is kept as it is.
package func unescapedName(_ bytes: some Collection<UInt8>) -> [UInt8] {
  let input = Array(bytes)
  var out: [UInt8] = []
  out.reserveCapacity(input.count)
  var index = 0
  while index < input.count {
    let byte = input[index]
    guard byte == 0x5C, index + 1 < input.count else {
      out.append(byte)
      index += 1
      continue
    }
    let next = input[index + 1]
    let simple: [UInt8: UInt8] = [
      0x5C: 0x5C, UInt8(ascii: "a"): 0x07, UInt8(ascii: "b"): 0x08, UInt8(ascii: "t"): 0x09,
      UInt8(ascii: "n"): 0x0A, UInt8(ascii: "v"): 0x0B, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "r"): 0x0D,
    ]
    if let value = simple[next] {
      out.append(value)
      index += 2
      continue
    }
    var value = 0
    var digits = 0
    while digits < 3, index + 1 + digits < input.count, (0x30...0x37).contains(input[index + 1 + digits]) {
      value = value * 8 + Int(input[index + 1 + digits] - 0x30)
      digits += 1
    }
    if digits > 0 && value <= 0xFF {
      out.append(UInt8(value))
      index += 1 + digits
    } else {
      out.append(byte)
      index += 1
    }
  }
  return out
}
