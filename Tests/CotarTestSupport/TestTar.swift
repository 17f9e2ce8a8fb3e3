/// Hand-built tar bytes, independent of Cotar's own `TarWriter`, so tests of the reader do
/// not trust the writer.
/// Builds small ustar archives in memory for tests (like go-pmtiles' fakeArchive).
public struct TestTar: Sendable {
  /// Creates an empty archive.
  public init() {}

  /// The members written so far, without the end-of-archive blocks.
  public private(set) var bytes: [UInt8] = []

  /// Appends a member with a ustar header (name ≤ 100 bytes); `mtime` is seconds since 1970.
  public mutating func add(
    _ name: [UInt8], data: [UInt8] = [], typeflag: UInt8 = UInt8(ascii: "0"), link: [UInt8] = [], mtime: UInt64 = 0
  ) {
    bytes += Self.header(name, size: UInt64(data.count), typeflag: typeflag, link: link, mtime: mtime)
    bytes += data
    bytes += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
  }

  /// A ustar header (name ≤ 100 bytes, size < 8 GiB) announcing `size` data bytes, which the
  /// caller writes after it (or leaves as a hole of a sparse file, for a huge member).
  public static func header(
    _ name: [UInt8], size: UInt64, typeflag: UInt8 = UInt8(ascii: "0"), link: [UInt8] = [], mtime: UInt64 = 0
  ) -> [UInt8] {
    var header = [UInt8](repeating: 0, count: 512)
    header.replaceSubrange(0..<name.count, with: name)
    put(octal: 0o644, width: 8, at: 100, in: &header)
    put(octal: 0, width: 8, at: 108, in: &header)
    put(octal: 0, width: 8, at: 116, in: &header)
    put(octal: size, width: 12, at: 124, in: &header)
    put(octal: mtime, width: 12, at: 136, in: &header)
    header[156] = typeflag
    header.replaceSubrange(157..<(157 + link.count), with: link)
    header.replaceSubrange(257..<265, with: Array("ustar\u{0}00".utf8))
    header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
    let sum = header.reduce(0) { $0 + Int($1) }
    put(octal: UInt64(sum), width: 7, at: 148, in: &header)
    return header
  }

  /// Appends a regular file named by a string.
  public mutating func add(_ name: String, _ text: String) { add(Array(name.utf8), data: Array(text.utf8)) }

  /// Appends a regular file with binary content.
  public mutating func add(_ name: String, _ data: [UInt8]) { add(Array(name.utf8), data: data) }

  /// Appends a regular file with a raw (possibly non-UTF-8) name.
  public mutating func add(_ name: [UInt8], _ data: [UInt8]) { add(name, data: data) }

  /// The archive with its two end-of-archive zero blocks.
  public var finished: [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

  private static func put(octal value: UInt64, width: Int, at offset: Int, in header: inout [UInt8]) {
    let digits = Array(String(value, radix: 8).utf8)
    let padded = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)) + digits
    header.replaceSubrange(offset..<(offset + padded.count), with: padded)
    header[offset + padded.count] = 0
  }
}
