import CotarCore

/// The device and inode numbers of a file-system object.
public struct FileIdentity: Hashable, Sendable {
  /// `st_dev`.
  public var device: UInt64
  /// `st_ino`.
  public var inode: UInt64

  /// Creates an identity.
  public init(device: UInt64, inode: UInt64) {
    self.device = device
    self.inode = inode
  }
}

/// One file-system object to archive, found by ``TarInputCollector``.
public struct TarInput: Hashable, Sendable {
  /// What the object is, as `lstat(2)` saw it (symbolic links are never followed).
  public enum Kind: Hashable, Sendable {
    /// A regular file of `size` bytes; `executable` when any execute bit is set.
    case file(size: UInt64, executable: Bool)
    /// A directory.
    case directory
    /// A symbolic link with its raw target.
    case symbolicLink(target: [UInt8])
  }

  /// The name in the archive (relative to the base directory, no `./`, no trailing `/`).
  public var archivePath: [UInt8]
  /// The path to open, as raw bytes (relative to the current directory or absolute).
  public var filesystemPath: [UInt8]
  /// The object kind.
  public var kind: Kind
  /// Device and inode as `lstat(2)` saw them during the walk, when known; a writer refuses
  /// a file that is no longer this object when it opens it.
  public var identity: FileIdentity?
  /// The status-change time (`st_ctim`, nanoseconds since 1970) `lstat(2)` saw during the
  /// walk, when known: a file whose content was compared for deduplication must still have it
  /// when it is copied (``TarPlan/plan(_:digest:)``).
  public var changeTime: Int64?

  /// Creates an input.
  public init(
    archivePath: [UInt8], filesystemPath: [UInt8], kind: Kind, identity: FileIdentity? = nil, changeTime: Int64? = nil
  ) {
    self.archivePath = archivePath
    self.filesystemPath = filesystemPath
    self.kind = kind
    self.identity = identity
    self.changeTime = changeTime
  }

  /// The archive path as text.
  public var path: String { String(decoding: archivePath, as: UTF8.self) }

  /// The file-system path as text, for messages.
  public var displayPath: String { String(decoding: filesystemPath, as: UTF8.self) }

  /// Data bytes (0 unless a regular file).
  public var size: UInt64 {
    if case .file(let size, _) = kind { return size }
    return 0
  }

  /// The reproducible member for this input: files 0644 (0755 when executable),
  /// directories 0755, symbolic links 0777.
  public var member: TarMember {
    switch kind {
    case .file(let size, let executable):
      TarMember(pathBytes: archivePath, kind: .file, size: size, mode: executable ? 0o755 : 0o644)
    case .directory:
      TarMember(pathBytes: archivePath, kind: .directory, mode: 0o755)
    case .symbolicLink(let target):
      TarMember(pathBytes: archivePath, kind: .symbolicLink, mode: 0o777, linkTargetBytes: target)
    }
  }
}

extension Array where Element == UInt8 {
  /// Bytewise ordering, the order in which writers store members.
  @inlinable
  static func bytewiseLess(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    lhs.lexicographicallyPrecedes(rhs)
  }
}
