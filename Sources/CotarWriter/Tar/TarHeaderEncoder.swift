import CotarCore

/// Encodes ``TarMember`` headers in POSIX ustar format, adding a PAX extended header (`x`)
/// only for what ustar cannot hold: a name that does not fit `name` or `prefix`/`name`, a
/// link target over 100 bytes, or a size of 8 GiB or more.
///
/// The output is a pure function of the member: mtime 0, uid/gid 0, empty user and group
/// names, PAX header name `././@PaxHeader` (as Python `tarfile` writes it), and no PAX
/// records other than `path`, `linkpath`, `size` and `hdrcharset`.
public enum TarHeaderEncoder {
  /// Largest value of an 11-digit octal field (8 GiB − 1).
  static let maximumOctalSize: UInt64 = 0o77777777777

  /// The header blocks for `member`: one 512-byte ustar block, preceded by a PAX header
  /// and its padded records when needed.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for an empty path or a path or link target
  ///   containing a NUL byte.
  public static func encode(_ member: TarMember) throws(CotarError) -> [UInt8] {
    guard !member.pathBytes.isEmpty else {
      throw CotarError(.invalidArgument, "a tar member needs a non-empty path")
    }
    guard !member.pathBytes.contains(0), !member.linkTargetBytes.contains(0) else {
      throw CotarError(.invalidArgument, "path or link target contains a NUL byte", path: member.path)
    }
    let name = member.storedName
    var pax: [(String, [UInt8])] = []
    let split = splitName(name)
    if split == nil { pax.append(("path", name)) }
    let hasLink = member.kind == .hardLink || member.kind == .symbolicLink
    if hasLink && member.linkTargetBytes.count > 100 { pax.append(("linkpath", member.linkTargetBytes)) }
    if member.size > maximumOctalSize { pax.append(("size", Array(String(member.size).utf8))) }
    let binary = pax.contains { $0.0 != "size" && !isValidUTF8($0.1) }
    if binary { pax.insert(("hdrcharset", Array("BINARY".utf8)), at: 0) }

    var result: [UInt8] = []
    if !pax.isEmpty {
      let records = pax.flatMap { paxRecord(key: $0.0, value: $0.1) }
      result += ustarBlock(
        name: Array("././@PaxHeader".utf8), prefix: [], typeflag: UInt8(ascii: "x"), mode: 0o644,
        size: UInt64(records.count), linkName: [])
      result += records
      result += [UInt8](repeating: 0, count: padding(records.count))
    }
    let (prefix, shortName) = split ?? ([], Array(name.prefix(100)))
    let typeflag: UInt8 =
      switch member.kind {
      case .file: UInt8(ascii: "0")
      case .hardLink: UInt8(ascii: "1")
      case .symbolicLink: UInt8(ascii: "2")
      case .directory: UInt8(ascii: "5")
      }
    result += ustarBlock(
      name: shortName, prefix: prefix, typeflag: typeflag, mode: member.mode,
      size: member.size > maximumOctalSize ? 0 : member.size,
      linkName: hasLink ? Array(member.linkTargetBytes.prefix(100)) : [])
    return result
  }

  /// Zero bytes needed after `count` bytes to reach a 512-byte boundary.
  static func padding(_ count: Int) -> Int { (512 - count % 512) % 512 }

  /// Splits a name into ustar `prefix` (≤ 155 bytes) and `name` (≤ 100 bytes) at the first
  /// `/` that makes both fit (Python `tarfile`'s choice); `nil` when no split fits.
  static func splitName(_ name: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
    if name.count <= 100 { return ([], name) }
    guard name.count <= 256 else { return nil }
    for (index, byte) in name.enumerated() where byte == 0x2F && index > 0 {
      let prefix = Array(name[..<index])
      let rest = Array(name[(index + 1)...])
      if prefix.count > 155 { return nil }
      if rest.count <= 100 && !rest.isEmpty { return (prefix, rest) }
    }
    return nil
  }

  /// One PAX record `"<length> <key>=<value>\n"`, where the length counts itself.
  static func paxRecord(key: String, value: [UInt8]) -> [UInt8] {
    let body = key.utf8.count + value.count + 3  // space, '=', newline
    var length = body + 1
    while String(length).utf8.count + body != length { length = String(length).utf8.count + body }
    return Array("\(length) \(key)=".utf8) + value + [0x0A]
  }

  private static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue: continue
      case .emptyInput: return true
      case .error: return false
      }
    }
  }

  /// One ustar header block with its checksum.
  static func ustarBlock(
    name: [UInt8], prefix: [UInt8], typeflag: UInt8, mode: UInt32, size: UInt64, linkName: [UInt8]
  ) -> [UInt8] {
    var block = [UInt8](repeating: 0, count: 512)
    func put(_ bytes: [UInt8], at offset: Int) {
      for (index, byte) in bytes.enumerated() { block[offset + index] = byte }
    }
    func octal(_ value: UInt64, width: Int) -> [UInt8] {
      let digits = String(value, radix: 8)
      return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
    }
    put(name, at: 0)
    put(octal(UInt64(mode), width: 8), at: 100)
    put(octal(0, width: 8), at: 108)  // uid
    put(octal(0, width: 8), at: 116)  // gid
    put(octal(size, width: 12), at: 124)
    put(octal(0, width: 12), at: 136)  // mtime
    put(Array(repeating: 0x20, count: 8), at: 148)  // checksum placeholder
    block[156] = typeflag
    put(linkName, at: 157)
    put(Array("ustar".utf8) + [0] + Array("00".utf8), at: 257)
    put(octal(0, width: 8), at: 329)  // devmajor
    put(octal(0, width: 8), at: 337)  // devminor
    put(prefix, at: 345)
    let sum = block.reduce(0) { $0 + Int($1) }
    let digits = String(sum, radix: 8)
    put(Array((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8) + [0, 0x20], at: 148)
    return block
  }
}
