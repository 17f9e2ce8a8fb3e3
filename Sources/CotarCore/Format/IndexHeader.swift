/// The 8-byte header (and identical footer) of a Cotar index: `COT`, version, slot count.
public struct CotarIndexHeader: Hashable, Sendable {
  /// The format version; Cotar reads and writes only 2.
  public var version: UInt8
  /// The number of 16-byte slots in the hash table.
  public var slotCount: UInt32

  /// Creates a header for `slotCount` slots.
  public init(slotCount: UInt32, version: UInt8 = CotarFormat.version) {
    self.slotCount = slotCount
    self.version = version
  }

  /// Parses and validates 8 header bytes starting at `offset` in `bytes`.
  ///
  /// - Parameters:
  ///   - bytes: a buffer holding the header.
  ///   - offset: where the header starts in `bytes`.
  ///   - sourceOffset: the header's offset in its source, reported in errors.
  /// - Throws: `CotarError` `.truncated` (fewer than 8 bytes), `.invalidMagic` (not `COT`),
  ///   `.unsupportedVersion` (not 2).
  public init(parsing bytes: [UInt8], at offset: Int = 0, sourceOffset: UInt64 = 0) throws(CotarError) {
    guard offset >= 0, bytes.count - offset >= CotarFormat.headerSize else {
      throw CotarError(.truncated, "expected an 8-byte Cotar header, found \(max(0, bytes.count - offset)) bytes", offset: sourceOffset)
    }
    let magic = Array(bytes[offset..<offset + 3])
    guard magic == CotarFormat.magic else {
      let shown = magic.map(Self.escaped).joined()
      throw CotarError(
        .invalidMagic,
        "no Cotar index here (found '\(shown)' instead of 'COT'); is this a .tar.co, or pass the .tar.index with --index?",
        offset: sourceOffset)
    }
    let version = bytes[offset + 3]
    guard version == CotarFormat.version else {
      throw CotarError(
        .unsupportedVersion,
        "index version \(version) is not supported (only version 2); rebuild it with `cotar index`",
        offset: sourceOffset + 3)
    }
    self.version = version
    self.slotCount = bytes.getUInt32LE(at: offset + 4) ?? 0
  }

  /// The 8 serialized bytes.
  public func serialized() -> [UInt8] {
    var bytes = CotarFormat.magic
    bytes.append(version)
    bytes.appendUInt32LE(slotCount)
    return bytes
  }

  /// Total size of the index this header describes: header + slots + footer.
  public var indexSize: UInt64 { CotarFormat.indexSize(slotCount: slotCount) }

  /// A byte as shown in messages: printable ASCII as itself, NUL as `\0`, others as `\xHH`.
  static func escaped(_ byte: UInt8) -> String {
    if (0x20..<0x7f).contains(byte) { return String(UnicodeScalar(byte)) }
    if byte == 0 { return "\\0" }
    return "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
  }
}
