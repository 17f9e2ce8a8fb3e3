/// Parsing of one 512-byte tar header block (v7, ustar, GNU), independent of I/O.
struct TarHeader {
  /// Raw name bytes (NUL-terminated field, prefix applied for POSIX ustar).
  var name: [UInt8]
  var linkName: [UInt8]
  var typeflag: UInt8
  var size: UInt64
  /// An old GNU sparse member (`S`) whose sparse map continues in extension blocks
  /// (`isextended`, byte 482): 512-byte blocks between the header and the data.
  var hasSparseExtension: Bool
  /// The real (expanded) size of an old GNU sparse member (`S`): the `realsize` field at byte
  /// 483 (12 bytes, octal or base-256); `nil` for other members or a malformed field (the
  /// listing then shows the stored size).
  var sparseRealSize: UInt64?
  /// The mode field (0 when it is not a number: listing metadata, never fatal).
  var mode: UInt32
  /// The mtime field, signed (0 when it is not a number).
  var mtime: Int64

  static let blockSize = 512

  /// Whether the 512 bytes at `offset` are all zero (end-of-archive marker).
  static func isZeroBlock(_ block: UnsafeRawBufferPointer) -> Bool {
    var accumulator: UInt64 = 0
    for index in stride(from: 0, to: blockSize, by: 8) {
      accumulator |= block.loadUnaligned(fromByteOffset: index, as: UInt64.self)
    }
    return accumulator == 0
  }

  /// Parses the header in `block` (exactly 512 bytes) found at `offset` in the source.
  ///
  /// - Throws: `CotarError` `.invalidTar` for a bad checksum or a malformed numeric field.
  init(block: UnsafeRawBufferPointer, offset: UInt64) throws(CotarError) {
    try Self.verifyChecksum(block, offset: offset)
    typeflag = block[156]
    hasSparseExtension = typeflag == UInt8(ascii: "S") && block[482] != 0
    sparseRealSize =
      typeflag == UInt8(ascii: "S") ? try? Self.parseNumber(block, field: 483..<495, name: "realsize", offset: offset) : nil
    size = try Self.parseNumber(block, field: 124..<136, name: "size", offset: offset)
    name = Self.cString(block, 0..<100)
    mode = Self.mode(of: block)
    mtime = Self.mtime(of: block)
    linkName = Self.cString(block, 157..<257)
    if Self.isPosixUstar(block) {
      let prefix = Self.cString(block, 345..<500)
      if !prefix.isEmpty { name = prefix + [0x2F] + name }
    }
  }

  /// Whether `block` is a POSIX ustar header (magic `ustar\0`), whose bytes 345..<500 are a
  /// path prefix; GNU headers (`ustar  \0`) use that area for other data.
  @inline(__always)
  static func isPosixUstar(_ block: UnsafeRawBufferPointer) -> Bool {
    block[257] == 0x75 && block[258] == 0x73 && block[259] == 0x74 && block[260] == 0x61 && block[261] == 0x72
      && block[262] == 0
  }

  /// Appends the path of the header in `block` to `bytes`, exactly as ``init(block:offset:)``
  /// joins it: the POSIX ustar prefix and a `/` when there is a prefix, then the name.
  @inline(__always)
  static func appendPath(of block: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
    if isPosixUstar(block), block[345] != 0 {
      appendCString(block, 345..<500, to: &bytes)
      bytes.append(0x2F)
    }
    appendCString(block, 0..<100, to: &bytes)
  }

  /// Appends the bytes of `range` up to the first NUL to `bytes`.
  @inline(__always)
  static func appendCString(_ block: UnsafeRawBufferPointer, _ range: Range<Int>, to bytes: inout [UInt8]) {
    var end = range.lowerBound
    while end < range.upperBound && block[end] != 0 { end += 1 }
    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[range.lowerBound..<end]))
  }

  /// The mode field of `block`, 0 when it is not a number (listing metadata, never fatal).
  @inline(__always)
  static func mode(of block: UnsafeRawBufferPointer) -> UInt32 {
    UInt32(truncatingIfNeeded: numberOrZero(block, field: 100..<108, name: "mode"))
  }

  /// The mtime field of `block`, 0 when it is not a number. A base-256 field is signed
  /// (GNU tar writes a time before 1970 so: `0xFF` then the two's complement).
  @inline(__always)
  static func mtime(of block: UnsafeRawBufferPointer) -> Int64 {
    if block[136] & 0x80 != 0 { return signedBase256(block, field: 136..<148) ?? 0 }
    return Int64(clamping: numberOrZero(block, field: 136..<148, name: "mtime"))
  }

  /// A GNU base-256 field read as a signed number: the first byte's `0x80` marks base-256,
  /// its `0x40` is the sign, and the field is a big-endian two's complement number of
  /// 6 + 8 × (count − 1) bits; `nil` when it is not base-256 or does not fit 64 bits.
  static func signedBase256(_ block: UnsafeRawBufferPointer, field: Range<Int>) -> Int64? {
    let first = block[field.lowerBound]
    guard first & 0x80 != 0 else { return nil }
    var value: Int64 = first & 0x40 != 0 ? -1 : 0
    value = value << 6 | Int64(first & 0x3F)
    for index in (field.lowerBound + 1)..<field.upperBound {
      // Shifting by 8 keeps the value only when its top 9 bits are all sign.
      guard value >> 55 == 0 || value >> 55 == -1 else { return nil }
      value = value << 8 | Int64(block[index])
    }
    return value
  }

  /// ``parseNumber(_:field:name:offset:)``, or 0 where it throws; a plain octal field (the
  /// common case) is read without building an error.
  @inline(__always)
  private static func numberOrZero(_ block: UnsafeRawBufferPointer, field: Range<Int>, name: String) -> UInt64 {
    if let value = plainOctal(block, from: field.lowerBound, count: field.count) { return value }
    return (try? parseNumber(block, field: field, name: name, offset: 0)) ?? 0
  }

  /// Checks the header checksum, accepting the unsigned and the signed byte sum as GNU tar does.
  static func verifyChecksum(_ block: UnsafeRawBufferPointer, offset: UInt64) throws(CotarError) {
    let stored = try parseNumber(block, field: 148..<156, name: "checksum", offset: offset)
    let (matches, unsignedSum) = checksum(of: block, matches: stored)
    guard matches else {
      throw CotarError(
        .invalidTar,
        "bad tar header checksum (stored \(stored), computed \(unsignedSum)); the archive is corrupt or not a tar",
        offset: offset)
    }
  }

  /// Whether `stored` is the unsigned or the signed byte sum of `block` (checksum field
  /// counted as spaces), and the unsigned sum.
  @inline(__always)
  static func checksum(of block: UnsafeRawBufferPointer, matches stored: UInt64) -> (Bool, Int) {
    // Sum every byte and count the bytes ≥ 0x80, eight bytes at a time (SWAR): `pairs` holds
    // four 16-bit lanes of byte-pair sums (at most 64 × 510 < 65,536, no carry between lanes)
    // and `highs` eight 8-bit lanes of high-bit counts (at most 64). Then replace the checksum
    // field by eight spaces. The signed sum differs from the unsigned one by 256 for every
    // byte ≥ 0x80.
    let lowBytes: UInt64 = 0x00FF_00FF_00FF_00FF
    var pairs: UInt64 = 0
    var highs: UInt64 = 0
    for wordOffset in stride(from: 0, to: blockSize, by: 8) {
      let word = block.loadUnaligned(fromByteOffset: wordOffset, as: UInt64.self)
      pairs &+= (word & lowBytes) &+ ((word >> 8) & lowBytes)
      highs &+= (word >> 7) & 0x0101_0101_0101_0101
    }
    // Fold the lanes: the totals (up to 130,560 and 512) do not fit one lane, so widen first.
    let pairQuads = (pairs & 0x0000_FFFF_0000_FFFF) &+ ((pairs >> 16) & 0x0000_FFFF_0000_FFFF)
    var unsignedSum = Int(truncatingIfNeeded: (pairQuads & 0xFFFF_FFFF) &+ (pairQuads >> 32))
    let highPairs = (highs & lowBytes) &+ ((highs >> 8) & lowBytes)
    var highBytes = Int(truncatingIfNeeded: (highPairs &* 0x0001_0001_0001_0001) >> 48)
    for index in 148..<156 {
      let byte = block[index]
      unsignedSum &-= Int(byte)
      highBytes &-= Int(byte >> 7)
    }
    unsignedSum &+= 8 * 0x20
    let signedSum = unsignedSum &- 256 &* highBytes
    return (stored == UInt64(unsignedSum) || Int(truncatingIfNeeded: stored) == signedSum, unsignedSum)
  }

  /// The value of a short octal field (at most 12 bytes, so it cannot overflow) exactly as
  /// ``parseNumber(_:field:name:offset:)`` reads it, or `nil` when that function would throw or
  /// the field is base-256: the caller then takes the general path, which reports the error.
  @inline(__always)
  static func plainOctal(_ block: UnsafeRawBufferPointer, from start: Int, count: Int) -> UInt64? {
    let end = start + count
    var index = start
    let first = block[start]
    if first & 0x80 != 0 { return nil }
    if first != 0 {
      while index < end && (block[index] == 0x20 || block[index] == 0) { index += 1 }
    }
    var value: UInt64 = 0
    while index < end {
      let byte = block[index]
      if byte == 0 || byte == 0x20 { break }
      let digit = byte &- 0x30
      guard digit < 8 else { return nil }
      value = value << 3 | UInt64(digit)
      index += 1
    }
    return value
  }

  /// The bytes of `range` up to the first NUL.
  static func cString(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8] {
    var end = range.lowerBound
    while end < range.upperBound && block[end] != 0 { end += 1 }
    return Array(block[range.lowerBound..<end])
  }

  /// Parses an octal numeric field (spaces/NUL padded) or a GNU base-256 field.
  ///
  /// - Throws: `CotarError` `.invalidTar` on a bad digit, a negative base-256 value or overflow.
  static func parseNumber(
    _ block: UnsafeRawBufferPointer, field: Range<Int>, name: String, offset: UInt64
  ) throws(CotarError) -> UInt64 {
    let first = block[field.lowerBound]
    if first & 0x80 != 0 {
      guard first == 0x80 else {
        throw CotarError(.invalidTar, "negative base-256 \(name) field in tar header", offset: offset)
      }
      var value: UInt64 = 0
      for index in (field.lowerBound + 1)..<field.upperBound {
        let (shifted, overflow) = value.multipliedReportingOverflow(by: 256)
        guard !overflow else {
          throw CotarError(.invalidTar, "base-256 \(name) field in tar header overflows 64 bits", offset: offset)
        }
        value = shifted | UInt64(block[index])
      }
      return value
    }
    var index = field.lowerBound
    while index < field.upperBound && (block[index] == 0x20 || block[index] == 0) {
      if block[index] == 0 && index == field.lowerBound { break }
      index += 1
    }
    var value: UInt64 = 0
    var digits = 0
    while index < field.upperBound {
      let byte = block[index]
      if byte == 0 || byte == 0x20 { break }
      guard byte >= 0x30 && byte <= 0x37 else {
        throw CotarError(
          .invalidTar,
          "invalid \(name) field in tar header (byte 0x\(String(byte, radix: 16)) at header position \(index) is not an octal digit); the archive is corrupt or not a tar",
          offset: offset)
      }
      let (shifted, overflow) = value.multipliedReportingOverflow(by: 8)
      guard !overflow else {
        throw CotarError(.invalidTar, "\(name) field in tar header overflows 64 bits", offset: offset)
      }
      value = shifted | UInt64(byte - 0x30)
      digits += 1
      index += 1
    }
    return value
  }
}
