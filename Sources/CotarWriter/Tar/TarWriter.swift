import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a ``TarWriter`` sends bytes: written sequentially, never read back.
public protocol TarOutput: AnyObject {
  /// Bytes written so far; the writer's first member starts here.
  var bytesWritten: UInt64 { get }
  /// Appends `bytes`.
  ///
  /// - Throws: `CotarError` `.io`.
  func write(_ bytes: [UInt8]) throws
}

extension AtomicFileWriter: TarOutput {}

/// Where a member's data comes from.
public enum TarMemberData: Sendable {
  /// No data (links, directories, empty files).
  case none
  /// Bytes already in memory (tests, small generated files).
  case bytes([UInt8])
  /// A local file, read in 1 MiB chunks; raw path bytes.
  case file([UInt8])
  /// A local file that must still be the object the walk saw (same device and inode).
  case checkedFile([UInt8], FileIdentity)
  /// A local file as ``checkedFile``, whose content was also compared with other files' (for
  /// deduplication): it must still have the status-change time the walk saw (nanoseconds),
  /// or the files stored as links to it would get bytes they never had.
  case comparedFile([UInt8], FileIdentity, changeTime: Int64)
}

extension TarMemberData {
  /// The path and identity of a ``checkedFile`` or ``comparedFile``.
  var checkedPath: (path: [UInt8], identity: FileIdentity)? {
    switch self {
    case .checkedFile(let path, let identity), .comparedFile(let path, let identity, _): (path, identity)
    case .none, .bytes, .file: nil
    }
  }
}

/// Streams tar members to a ``TarOutput``: header blocks, then data padded to 512 bytes.
/// File data is copied in chunks, so the archive is never held in memory.
///
/// Call ``write(_:data:)`` per member and ``finish()`` once for the end-of-archive marker.
public final class TarWriter {
  /// The destination.
  public let output: any TarOutput
  /// Offset of the next header (the archive size so far).
  public private(set) var offset: UInt64
  /// Members written so far.
  public private(set) var membersWritten = 0
  /// Data bytes written so far (excluding headers and padding).
  public private(set) var dataBytesWritten: UInt64 = 0
  /// Bytes per read when copying a file.
  public var chunkSize = 1 << 20

  /// Creates a writer whose first member starts at `output.bytesWritten`.
  public init(output: any TarOutput) {
    self.output = output
    self.offset = output.bytesWritten
  }

  /// Writes one member and returns it as a scanner would report it (for index building).
  ///
  /// - Parameters:
  ///   - member: the header fields.
  ///   - data: the data source; must supply exactly `member.size` bytes.
  /// - Throws: `CotarError` `.invalidArgument` from header encoding or when `data` does not
  ///   match `member.size`, `.io` when a file cannot be read, changed size since it was
  ///   listed, shrank, grew or was otherwise modified (its mtime or ctime changed) while it
  ///   was copied, or the output cannot be written.
  @discardableResult
  public func write(_ member: TarMember, data: TarMemberData) throws -> TarEntry {
    let headers = try TarHeaderEncoder.encode(member)
    let headerOffset = offset
    let dataOffset = headerOffset + UInt64(headers.count)
    try output.write(headers)
    offset = dataOffset
    switch data {
    case .none:
      guard member.size == 0 else {
        throw CotarError(.invalidArgument, "member of \(member.size) bytes given no data", path: member.path)
      }
    case .bytes(let bytes):
      guard UInt64(bytes.count) == member.size else {
        throw CotarError(.invalidArgument, "member size \(member.size) but \(bytes.count) bytes given", path: member.path)
      }
      try output.write(bytes)
    case .file(let path):
      try copyFile(path, size: member.size, member: member, identity: nil)
    case .checkedFile(let path, let identity):
      try copyFile(path, size: member.size, member: member, identity: identity)
    case .comparedFile(let path, let identity, let changeTime):
      try copyFile(path, size: member.size, member: member, identity: identity, comparedAt: changeTime)
    }
    let padding = Int((512 - member.size % 512) % 512)
    if padding > 0 { try output.write([UInt8](repeating: 0, count: padding)) }
    offset = dataOffset + member.size + UInt64(padding)
    membersWritten += 1
    dataBytesWritten += member.size
    let kind: TarEntry.Kind =
      switch member.kind {
      case .file: .file
      case .hardLink: .hardLink
      case .symbolicLink: .symbolicLink
      case .directory: .directory
      }
    let isLink = member.kind == .hardLink || member.kind == .symbolicLink
    // The path as stored (a directory with its `/`), as a scanner of the archive reads it:
    // the name table and the index's superseding compare stored paths (SPEC §6, §12.5).
    return TarEntry(
      pathBytes: member.storedName, kind: kind, headerOffset: headerOffset, dataOffset: dataOffset,
      size: member.size, linkTargetBytes: isLink ? member.linkTargetBytes : nil, mode: member.mode)
  }

  /// Writes the end-of-archive marker (two zero blocks) and returns the archive size.
  ///
  /// - Throws: `CotarError` `.io`.
  @discardableResult
  public func finish() throws -> UInt64 {
    try output.write([UInt8](repeating: 0, count: 1024))
    offset += 1024
    return offset
  }

  private func copyFile(
    _ path: [UInt8], size: UInt64, member: TarMember, identity: FileIdentity?, comparedAt changeTime: Int64? = nil
  ) throws {
    let display = String(decoding: path, as: UTF8.self)
    let (fd, info) = try TarInputCollector.openListedFile(path, identity: identity, display: display, member: member.path)
    defer { Syscall.close(fd) }
    if let changeTime, TarInputCollector.nanoseconds(info.changeTime) != changeTime {
      throw CotarError(
        .io,
        "file changed since it was listed (its status-change time differs), after its content was compared with identical files stored as links to it; archive it again",
        path: member.path, source: display)
    }
    guard UInt64(info.st_size) == size else {
      throw CotarError(
        .io, "file changed size since it was listed (\(size) → \(info.st_size) bytes); archive it again",
        path: member.path, source: display)
    }
    var remaining = size
    var buffer = [UInt8](repeating: 0, count: chunkSize)
    while remaining > 0 {
      try Task.checkCancellation()
      let want = Int(min(UInt64(buffer.count), remaining))
      let count: Int
      do {
        count = try Syscall.read(fd, into: &buffer, count: want, fromAbsoluteOffset: size - remaining)
      } catch {
        throw error.cotarError("read failed", offset: size - remaining, path: member.path, source: display)
      }
      guard count > 0 else {
        throw CotarError(
          .io, "file shrank while being archived (\(remaining) bytes missing); archive it again",
          path: member.path, source: display)
      }
      try output.write(count == buffer.count ? buffer : Array(buffer[0..<count]))
      remaining -= UInt64(count)
    }
    try refuseGrowth(fd, size: size, member: member, display: display)
    try refuseChange(fd, opened: info, member: member, display: display)
  }

  /// Throws when the file opened as `fd` was modified while it was copied: its modification
  /// time or status-change time (to the nanosecond) or its size differ from what `fstat` gave
  /// at open, as GNU tar reports "file changed as we read it". A file rewritten in place at
  /// the same size would otherwise give a member mixing old and new bytes (SPEC §9.1).
  private func refuseChange(_ fd: Int32, opened: stat, member: TarMember, display: String) throws {
    let now: stat
    do {
      now = try Syscall.status(of: fd)
    } catch {
      throw error.cotarError("cannot stat", path: member.path, source: display)
    }
    var changed: [String] = []
    if now.modificationTime != opened.modificationTime { changed.append("modification time") }
    if now.changeTime != opened.changeTime { changed.append("status-change time") }
    if now.st_size != opened.st_size { changed.append("size") }
    guard !changed.isEmpty else { return }
    throw CotarError(
      .io, "file changed while being archived (its \(changed.joined(separator: " and ")) changed during the copy); archive it again",
      path: member.path, source: display)
  }

  /// Throws when the file opened as `fd` has bytes past `size` after its first `size` bytes
  /// were copied: it grew while it was archived, and the member would hold a stale, possibly
  /// torn prefix (SPEC §9.1). Both the size now reported and a 1-byte read at `size` are
  /// checked, so growth is seen even where `fstat` lags behind the data.
  private func refuseGrowth(_ fd: Int32, size: UInt64, member: TarMember, display: String) throws {
    var probe = [UInt8](repeating: 0, count: 1)
    let beyond: Int
    do {
      beyond = try Syscall.read(fd, into: &probe, count: 1, fromAbsoluteOffset: size)
    } catch {
      throw error.cotarError("read failed", offset: size, path: member.path, source: display)
    }
    let reported = (try? Syscall.status(of: fd)).map { UInt64(max(0, $0.st_size)) } ?? size
    guard beyond > 0 || reported > size else { return }
    let found = max(reported, size + UInt64(beyond))
    throw CotarError(
      .io, "file grew while being archived (\(size) bytes expected, \(found) found); archive it again",
      path: member.path, source: display)
  }
}
