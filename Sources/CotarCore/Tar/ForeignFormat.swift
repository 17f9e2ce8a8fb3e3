/// A file that is not an uncompressed tar, recognised by its first bytes when its first block
/// is not a valid tar header (SPEC §6): a compressed tar, another archive format, a disc
/// image, or the shard-set manifest `cotar pack` writes. Recognised whatever the file's size,
/// so a 100-byte ZIP file is reported as a ZIP file, not as a truncated tar.
public enum ForeignFormat: Hashable, Sendable {
  /// A compressed file (`gzip`, `bzip2`, `xz`, `zstd`, `lz4`): most likely a compressed tar.
  case compressed(String)
  /// Another archive format, by its usual name (`ZIP`, `cpio`, `7-Zip`, `RAR`, `ar`).
  case archive(String)
  /// A disc image (`ISO 9660`), recognised by a volume descriptor after 32 KiB of system area.
  case image(String)
  /// The JSON manifest of a `cotar pack` shard set (`"format": "cotar-shards"`).
  case shardManifest

  /// Bytes from the start of a file that ``ofFile(startingWith:)`` needs to recognise every
  /// format it knows (the last ISO 9660 descriptor position it checks ends at 36,870).
  public static let headLength = 64 << 10

  /// Where an ISO 9660 volume descriptor's `CD001` identifier may be: the descriptors start
  /// at sector 16 (byte 32,768, after the system area) and follow each other every 2,048
  /// bytes; the identifier is their bytes 1–5.
  static let isoIdentifierOffsets = [32769, 34817, 36865]

  /// The format whose magic bytes start `prefix` (the file's first bytes: one block finds
  /// all but an ISO 9660 image, which needs ``headLength`` bytes), or `nil`. The caller checks
  /// first that the first block is not a valid tar header: a tar whose first member is named
  /// `PK\u{3}\u{4}…` is still a tar.
  public static func detect(_ prefix: some Collection<UInt8>) -> ForeignFormat? {
    let head = Array(prefix.prefix(headLength))
    let bytes = Array(head.prefix(TarHeader.blockSize))
    let compressed: [(String, [UInt8])] = [
      ("gzip", [0x1F, 0x8B]), ("bzip2", [0x42, 0x5A, 0x68]), ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]),
      ("zstd", [0x28, 0xB5, 0x2F, 0xFD]), ("lz4", [0x04, 0x22, 0x4D, 0x18]),
    ]
    for (name, magic) in compressed where bytes.starts(with: magic) { return .compressed(name) }
    let archives: [(String, [UInt8])] = [
      ("ZIP", Array("PK\u{3}\u{4}".utf8)), ("ZIP", Array("PK\u{5}\u{6}".utf8)), ("ZIP", Array("PK\u{7}\u{8}".utf8)),
      ("cpio", Array("070707".utf8)), ("cpio", Array("070701".utf8)), ("cpio", Array("070702".utf8)),
      ("cpio", [0xC7, 0x71]), ("cpio", [0x71, 0xC7]),
      ("7-Zip", [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]), ("RAR", Array("Rar!\u{1A}\u{7}".utf8)),
      ("ar", Array("!<arch>\n".utf8)),
    ]
    for (name, magic) in archives where bytes.starts(with: magic) { return .archive(name) }
    if isShardManifest(bytes) { return .shardManifest }
    let iso = Array("CD001".utf8)
    if isoIdentifierOffsets.contains(where: { head.count >= $0 + iso.count && head[$0..<($0 + iso.count)].elementsEqual(iso) }) {
      return .image("ISO 9660")
    }
    return nil
  }

  /// The format of a file that starts with `bytes` (its first block, or all of a shorter
  /// file; ``headLength`` bytes to find an ISO 9660 image) when those bytes are not a tar: `nil` when they start with a valid tar header or
  /// match no known format.
  public static func ofFile(startingWith bytes: [UInt8]) -> ForeignFormat? {
    guard let format = detect(bytes) else { return nil }
    let isTar =
      bytes.count >= TarHeader.blockSize
      && bytes.withUnsafeBytes { raw in
        (try? TarHeader.verifyChecksum(UnsafeRawBufferPointer(rebasing: raw[0..<TarHeader.blockSize]), offset: 0)) != nil
      }
    return isTar ? nil : format
  }

  /// What to do with gzip data read as a plain tar: Cotar reads a gzip-compressed tar by its
  /// name (SPEC §13), so one named `.tar` is to be renamed `.tar.gz` (or decompressed).
  private static func gzipMessage(for identity: String) -> String {
    if GzipIndexFormat.isGzipName(identity) {
      return "\(identity) is gzip-compressed; read it as a .tar.gz with its \(identity)\(GzipIndexFormat.sidecarSuffix) (build it with 'cotar index \(identity)')"
    }
    let path = ArchiveLocation.pathPart(of: identity)
    let renamed = GzipIndexFormat.gzipName(for: path)
    return
      "\(identity) is gzip-compressed but not named .tar.gz or .tgz (Cotar reads a gzip-compressed tar by its name): rename it to \(renamed) (then 'cotar index \(renamed)' works), or decompress it"
  }

  /// Whether `bytes` open a JSON object that declares `"format": "cotar-shards"` (the first
  /// key `cotar pack` writes).
  private static func isShardManifest(_ bytes: [UInt8]) -> Bool {
    guard bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else { return false }
    let marker = Array("\"cotar-shards\"".utf8)
    guard bytes.count >= marker.count else { return false }
    return (0...(bytes.count - marker.count)).contains { bytes[$0..<($0 + marker.count)].elementsEqual(marker) }
  }

  /// The error for the file `identity` in this format: `.invalidTar` at offset 0, saying what
  /// the file is and what to do instead.
  public func error(for identity: String) -> CotarError {
    let message: String
    switch self {
    case .compressed("gzip"):
      message = Self.gzipMessage(for: identity)
    case .compressed(let name):
      message = "\(identity) is \(name)-compressed; Cotar reads uncompressed and gzip-compressed tars (decompress it first)"
    case .archive(let name):
      message =
        "\(identity) is not a tar: it looks like a\(name.first.map { "AEIOU".contains($0) } == true ? "n" : "") \(name) archive; Cotar reads tar archives (convert it with bsdtar -cf NEW.tar @\(identity))"
    case .image(let name):
      message =
        "\(identity) is not a tar: it looks like an \(name) image; Cotar reads tar archives (convert it with bsdtar -cf NEW.tar @\(identity))"
    case .shardManifest:
      let named = identity.split(separator: "?").first.map { $0.hasSuffix(".manifest.json") } ?? false
      message =
        "\(identity) is not a tar: it is a cotar pack manifest (JSON naming the shards and the path range each holds); read its members with 'cotar get \(identity) PATH…'"
        + (named ? "" : " once it is named NAME.manifest.json") + ", or list a shard it names with 'cotar ls SHARD'"
    }
    return CotarError(.invalidTar, message, offset: 0, source: identity)
  }
}
