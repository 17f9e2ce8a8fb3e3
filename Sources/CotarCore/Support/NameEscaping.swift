/// Member names in human-readable output, escaped as GNU tar's default `escape` quoting style
/// does, so a name cannot break a line-based pipeline or send a terminal escape sequence.

/// `bytes` escaped for human-readable output, as GNU tar prints names in a UTF-8 locale: a
/// backslash as `\\`, the C0 controls as `\a \b \t \n \v \f \r` or three octal digits
/// (`\033` for ESC), DEL as `\177`; every byte of a character that is not printable — a C1
/// control (U+0080–U+009F, such as the 8-bit CSI U+009B), the line and paragraph separators
/// U+2028 and U+2029, an unassigned code point — and every byte that is not part of valid
/// UTF-8 as three octal digits (`\302\233`, `\377`). Other characters pass through
/// unchanged. ``unescapedName(_:)`` reverses it.
package func escapedName(_ bytes: some Sequence<UInt8>) -> [UInt8] {
  let input = Array(bytes)
  // The common name (printable ASCII without a backslash) is shown as it is.
  if input.allSatisfy({ (0x20..<0x7F).contains($0) && $0 != 0x5C }) { return input }
  var out: [UInt8] = []
  out.reserveCapacity(input.count)
  var index = 0
  while index < input.count {
    let byte = input[index]
    guard byte >= 0x80 else {
      appendEscapedASCII(byte, to: &out)
      index += 1
      continue
    }
    let (length, scalar) = decodedUTF8Sequence(input, at: index)
    let sequence = input[index..<index + max(length, 1)]
    if let scalar, isPrintable(scalar) {
      out += sequence
    } else {
      for escaped in sequence { appendOctal(escaped, to: &out) }
    }
    index += max(length, 1)
  }
  return out
}

/// Appends one ASCII byte, escaped when it is a control or a backslash.
private func appendEscapedASCII(_ byte: UInt8, to out: inout [UInt8]) {
  switch byte {
  case 0x5C: out += [0x5C, 0x5C]
  case 0x07: out += [0x5C, UInt8(ascii: "a")]
  case 0x08: out += [0x5C, UInt8(ascii: "b")]
  case 0x09: out += [0x5C, UInt8(ascii: "t")]
  case 0x0A: out += [0x5C, UInt8(ascii: "n")]
  case 0x0B: out += [0x5C, UInt8(ascii: "v")]
  case 0x0C: out += [0x5C, UInt8(ascii: "f")]
  case 0x0D: out += [0x5C, UInt8(ascii: "r")]
  case 0x00..<0x20, 0x7F: appendOctal(byte, to: &out)
  default: out.append(byte)
  }
}

/// Appends `byte` as a backslash and three octal digits.
private func appendOctal(_ byte: UInt8, to out: inout [UInt8]) {
  out += [0x5C, 0x30 + (byte >> 6), 0x30 + ((byte >> 3) & 7), 0x30 + (byte & 7)]
}

/// The well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing above
/// U+10FFFF) that starts at the non-ASCII byte at `index`: its length and the character it
/// encodes, or length 0 and `nil` when the bytes there are not one.
private func decodedUTF8Sequence(_ bytes: [UInt8], at index: Int) -> (length: Int, scalar: Unicode.Scalar?) {
  let lead = bytes[index]
  let length: Int
  var secondRange: ClosedRange<UInt8> = 0x80...0xBF
  switch lead {
  case 0xC2...0xDF: length = 2
  case 0xE0: length = 3; secondRange = 0xA0...0xBF
  case 0xE1...0xEC, 0xEE...0xEF: length = 3
  case 0xED: length = 3; secondRange = 0x80...0x9F
  case 0xF0: length = 4; secondRange = 0x90...0xBF
  case 0xF1...0xF3: length = 4
  case 0xF4: length = 4; secondRange = 0x80...0x8F
  default: return (0, nil)
  }
  guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else { return (0, nil) }
  var value = UInt32(lead) & (0xFF >> (length + 1))
  for offset in 1..<length {
    let byte = bytes[index + offset]
    guard (0x80...0xBF).contains(byte) else { return (0, nil) }
    value = value << 6 | UInt32(byte & 0x3F)
  }
  return (length, Unicode.Scalar(value))
}

/// Whether `scalar` is a character a terminal shows rather than acts on, as glibc's
/// `iswprint` in a UTF-8 locale decides: not a control (C1, U+0080–U+009F), not the line or
/// paragraph separator (U+2028, U+2029), and assigned (a noncharacter such as U+FFFF, or a code
/// point Unicode has not assigned, is not printable).
private func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
  switch scalar.properties.generalCategory {
  case .control, .unassigned, .surrogate, .lineSeparator, .paragraphSeparator: return false
  default: return true
  }
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
