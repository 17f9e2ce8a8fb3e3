/// LEB128 unsigned varints and ZigZag signed varints, as used by the name table (SPEC §12).
enum Varint {
  /// Appends `value` as an unsigned LEB128 varint (7 bits per byte, low bits first).
  static func append(_ value: UInt64, to bytes: inout [UInt8]) {
    var value = value
    while value >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
      value >>= 7
    }
    bytes.append(UInt8(value))
  }

  /// Appends `value` ZigZag-encoded (0, −1, 1, −2, … → 0, 1, 2, 3, …).
  static func appendSigned(_ value: Int64, to bytes: inout [UInt8]) {
    append(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &bytes)
  }
}

/// A bounds-checked reader of a decoded name-table block.
struct ByteCursor {
  let bytes: [UInt8]
  var position = 0
  /// Where `bytes` sit in the block, for error offsets.
  let describe: (Int) -> CotarError

  var atEnd: Bool { position >= bytes.count }

  mutating func byte() throws(CotarError) -> UInt8 {
    guard position < bytes.count else { throw describe(position) }
    defer { position += 1 }
    return bytes[position]
  }

  /// An unsigned LEB128 varint of at most 10 bytes that fits 64 bits.
  mutating func varint() throws(CotarError) -> UInt64 {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      let byte = try byte()
      guard shift < 64, shift < 63 || byte <= 1 else { throw describe(position - 1) }
      value |= UInt64(byte & 0x7F) << shift
      if byte & 0x80 == 0 { return value }
      shift += 7
    }
  }

  /// A ZigZag-encoded signed varint.
  mutating func signedVarint() throws(CotarError) -> Int64 {
    let raw = try varint()
    return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
  }

  /// A varint that must fit `Int` and at most `limit`.
  mutating func length(atMost limit: Int) throws(CotarError) -> Int {
    let value = try varint()
    guard value <= UInt64(limit) else { throw describe(position - 1) }
    return Int(value)
  }

  mutating func take(_ count: Int) throws(CotarError) -> ArraySlice<UInt8> {
    guard count >= 0, count <= bytes.count - position else { throw describe(position) }
    defer { position += count }
    return bytes[position..<(position + count)]
  }
}
