/// One member of a tar archive, with its extended headers already applied.
public struct TarEntry: Hashable, Sendable {
  /// What kind of member this is.
  public enum Kind: Hashable, Sendable, CustomStringConvertible {
    /// A regular file (typeflag `0`, NUL or `7`).
    case file
    /// A hard link (typeflag `1`) to an earlier member.
    case hardLink
    /// A symbolic link (typeflag `2`).
    case symbolicLink
    /// A directory (typeflag `5`, or GNU dump directory `D`).
    case directory
    /// A character or block device (typeflag `3`, `4`).
    case device
    /// A FIFO (typeflag `6`).
    case fifo
    /// A GNU (`S`) or PAX (`GNU.sparse.*`) sparse file, whose data is not stored contiguously.
    case sparse
    /// Any other typeflag (GNU volume label `V`, multi-volume `M`, unknown letters).
    case other(UInt8)

    /// Whether the Cotar index holds entries of this kind.
    public var isIndexed: Bool { self == .file || self == .hardLink }

    /// A short lowercase name such as `file` or `hardlink`.
    public var description: String {
      switch self {
      case .file: "file"
      case .hardLink: "hardlink"
      case .symbolicLink: "symlink"
      case .directory: "directory"
      case .device: "device"
      case .fifo: "fifo"
      case .sparse: "sparse"
      case .other(let flag): "type-\(String(UnicodeScalar(flag)))"
      }
    }
  }

  /// The full path bytes exactly as stored: PAX `path` > GNU long name > ustar prefix + name.
  public var pathBytes: [UInt8]
  /// The member kind.
  public var kind: Kind
  /// Offset of the member's first header block (the first extended header if any).
  public var headerOffset: UInt64
  /// Offset of the first data byte (a multiple of 512).
  public var dataOffset: UInt64
  /// Data size in bytes (PAX `size` overrides the header); 0 for members without data. For a
  /// ``Kind/sparse`` member, the real (expanded) size (PAX `GNU.sparse.realsize` or
  /// `GNU.sparse.size`, old GNU `realsize`), not the stored size, as `tar -tv` shows it.
  public var size: UInt64
  /// Link target bytes for hard and symbolic links (PAX `linkpath` > GNU long link > header).
  public var linkTargetBytes: [UInt8]?
  /// The header's mode field (permission bits); 0 when absent or unreadable.
  public var mode: UInt32 = 0
  /// The modification time in seconds since 1970, negative before (PAX `mtime`, floored to
  /// whole seconds, over the header's signed field).
  public var mtime: Int64 = 0

  /// Creates an entry.
  public init(
    pathBytes: [UInt8], kind: Kind, headerOffset: UInt64, dataOffset: UInt64, size: UInt64,
    linkTargetBytes: [UInt8]? = nil, mode: UInt32 = 0, mtime: Int64 = 0
  ) {
    self.mode = mode
    self.mtime = mtime
    self.pathBytes = pathBytes
    self.kind = kind
    self.headerOffset = headerOffset
    self.dataOffset = dataOffset
    self.size = size
    self.linkTargetBytes = linkTargetBytes
  }

  /// The path as text; bytes that are not valid UTF-8 are shown as U+FFFD.
  public var path: String { String(decoding: pathBytes, as: UTF8.self) }

  /// The link target as text, if any.
  public var linkTarget: String? { linkTargetBytes.map { String(decoding: $0, as: UTF8.self) } }
}
