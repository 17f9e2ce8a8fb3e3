/// One tar member as the name table describes it (SPEC §12.5).
public struct NameEntry: Hashable, Sendable {
  /// The member kinds the name table tells apart.
  public enum Kind: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// A regular file (typeflag `0`, NUL, `7`).
    case file = 0
    /// A directory.
    case directory = 1
    /// A symbolic link.
    case symbolicLink = 2
    /// A hard link (its size and data offset are those of its target).
    case hardLink = 3
    /// Anything else: devices, FIFOs, sparse files, unknown typeflags.
    case other = 4

    /// The kind for a tar member kind.
    public init(_ kind: TarEntry.Kind) {
      switch kind {
      case .file: self = .file
      case .directory: self = .directory
      case .symbolicLink: self = .symbolicLink
      case .hardLink: self = .hardLink
      default: self = .other
      }
    }

    /// Whether records of this kind carry a data offset (files and hard links).
    var hasData: Bool { self == .file || self == .hardLink }
    /// Whether records of this kind store a size (files, hard links, other; directories and
    /// symbolic links have size 0).
    var hasSize: Bool { self == .file || self == .hardLink || self == .other }
    /// Whether records of this kind carry a link target.
    var hasLink: Bool { self == .symbolicLink || self == .hardLink }

    /// `file`, `directory`, `symlink`, `hardlink` or `other`.
    public var description: String {
      switch self {
      case .file: "file"
      case .directory: "directory"
      case .symbolicLink: "symlink"
      case .hardLink: "hardlink"
      case .other: "other"
      }
    }
  }

  /// The full path bytes exactly as stored in the tar.
  public var pathBytes: [UInt8]
  /// The member kind.
  public var kind: Kind
  /// The data size (a hard link's is its target's; 0 for members without data).
  public var size: UInt64
  /// The first data byte's offset in the tar (files and resolved hard links), else 0.
  public var dataOffset: UInt64
  /// The permission and mode bits from the header.
  public var mode: UInt32
  /// Modification time in seconds since 1970.
  public var mtime: Int64
  /// The link target bytes (symbolic and hard links).
  public var linkTargetBytes: [UInt8]?

  /// Creates an entry.
  public init(
    pathBytes: [UInt8], kind: Kind, size: UInt64, dataOffset: UInt64 = 0, mode: UInt32 = 0, mtime: Int64 = 0,
    linkTargetBytes: [UInt8]? = nil
  ) {
    self.pathBytes = pathBytes
    self.kind = kind
    self.size = size
    self.dataOffset = dataOffset
    self.mode = mode
    self.mtime = mtime
    self.linkTargetBytes = linkTargetBytes
  }

  /// The path as text (invalid UTF-8 shown as U+FFFD).
  public var path: String { String(decoding: pathBytes, as: UTF8.self) }
  /// The link target as text.
  public var linkTarget: String? { linkTargetBytes.map { String(decoding: $0, as: UTF8.self) } }
  /// The byte range of the data (files and hard links).
  public var dataRange: Range<UInt64> { dataOffset..<(dataOffset + size) }
}
