import CotarCore

/// A tar member to be written, described independently of where its bytes come from.
///
/// Every member is written reproducibly: mtime 0, uid/gid 0, empty user and group names.
public struct TarMember: Hashable, Sendable {
  /// The kind of member written.
  public enum Kind: Hashable, Sendable {
    /// A regular file (typeflag `0`) with `size` data bytes.
    case file
    /// A hard link (typeflag `1`) to an earlier member named `linkTargetBytes`.
    case hardLink
    /// A symbolic link (typeflag `2`) whose target is `linkTargetBytes`.
    case symbolicLink
    /// A directory (typeflag `5`); its name is written with a trailing `/`.
    case directory
  }

  /// The archive path, without a trailing `/` (added for directories).
  public var pathBytes: [UInt8]
  /// The member kind.
  public var kind: Kind
  /// Data size in bytes (regular files only; 0 otherwise).
  public var size: UInt64
  /// Permission bits, such as `0o644`.
  public var mode: UInt32
  /// The link target (hard and symbolic links only).
  public var linkTargetBytes: [UInt8]

  /// Creates a member description.
  public init(pathBytes: [UInt8], kind: Kind, size: UInt64 = 0, mode: UInt32, linkTargetBytes: [UInt8] = []) {
    self.pathBytes = pathBytes
    self.kind = kind
    self.size = kind == .file ? size : 0
    self.mode = mode
    self.linkTargetBytes = linkTargetBytes
  }

  /// The path as text (bytes that are not UTF-8 shown as U+FFFD).
  public var path: String { String(decoding: pathBytes, as: UTF8.self) }

  /// The name stored in the archive: the path, plus `/` for a directory.
  var storedName: [UInt8] { kind == .directory ? pathBytes + [0x2F] : pathBytes }

  /// Bytes this member occupies in an archive: header blocks (with any PAX header) plus
  /// data padded to 512 bytes.
  ///
  /// - Throws: `CotarError` `.invalidArgument` as ``TarHeaderEncoder/encode(_:)``.
  public func encodedSize() throws -> UInt64 {
    let headers = UInt64(try TarHeaderEncoder.encode(self).count)
    let (padded, overflow) = size.addingReportingOverflow(511)
    guard !overflow else {
      throw CotarError(.limitExceeded, "file of \(size) bytes is too large for a tar", path: path)
    }
    return headers + (padded & ~511)
  }
}
