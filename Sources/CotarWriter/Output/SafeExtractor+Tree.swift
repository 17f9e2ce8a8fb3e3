import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Directories with their modes, symbolic links that stay inside, and hard links: what
/// `cotar extract` needs beyond files, with the same guarantees (no symbolic link in the
/// output directory is ever followed; every name appears atomically).
extension SafeExtractor {
  /// The mode and modification time given to an extracted member.
  public struct Attributes: Sendable, Hashable {
    /// The mode bits from the archive. The permission bits (`0o777`) are applied as stored
    /// (no umask), and the sticky bit (`0o1000`) of a directory (a `1777` `tmp/` stays
    /// shared but safe, as GNU tar as root and `bsdtar -p` keep it). The set-user-ID and
    /// set-group-ID bits (`0o6000`) are always dropped: extracted files belong to whoever
    /// extracts them, so keeping those bits would turn an archive's setuid file into one
    /// that runs as the extracting user (root, for a root extract), which is why GNU tar
    /// drops them too unless it also restores the owner. A file's sticky bit is dropped
    /// (Linux ignores it; BSD and macOS refuse it to non-root users).
    public var mode: UInt32
    /// Seconds since 1970, or `nil` to leave the time of extraction.
    public var modificationTime: Int64?

    /// Creates attributes.
    public init(mode: UInt32, modificationTime: Int64? = nil) {
      self.mode = mode
      self.modificationTime = modificationTime
    }
  }

  /// Sets `attributes` on a temporary file before it is moved into place.
  func apply(_ attributes: Attributes?, to file: TemporaryFile) throws {
    guard let attributes else { return }
    try apply(attributes, descriptor: file.descriptor, text: file.text, keeping: Self.fileModeBits)
  }

  /// The mode bits applied to an extracted file: the permission bits only.
  public static let fileModeBits: UInt32 = 0o777
  /// The mode bits applied to an extracted directory: the permission bits and the sticky bit.
  public static let directoryModeBits: UInt32 = 0o1777

  private func apply(_ attributes: Attributes, descriptor: Int32, text: String, keeping bits: UInt32) throws {
    do {
      try Syscall.setPermissions(descriptor, mode_t(attributes.mode & bits))
      if let time = attributes.modificationTime { try Syscall.setModificationTime(descriptor, seconds: time) }
    } catch {
      throw error.cotarError("cannot set the mode or modification time", path: text, source: directory)
    }
  }

  /// Creates the directory `path` (and its missing parents); its `attributes` are applied by
  /// ``finish()``, after everything below it is written (so a read-only directory can still
  /// be filled, and its time is not changed by its contents).
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a refused name or a symbolic link or file
  ///   in the way, `.io`.
  public func makeDirectory(_ path: [UInt8], attributes: Attributes? = nil) throws {
    trimDirectoryCache()
    let text = String(decoding: path, as: UTF8.self)
    if Self.isRoot(path) {  // `./`, as `tar -C dir .` stores it: the output directory itself
      if let attributes { pendingDirectories.append(([], text, attributes)) }
      directoriesMade.insert([])
      return
    }
    let parts = try Self.components(of: path)
    _ = try directoryDescriptor(parts, entry: text)
    if let attributes { pendingDirectories.append((parts, text, attributes)) }
    directoriesMade.insert(Array(parts.joined(separator: [0x2F])))
  }

  /// Whether `path` names the archive root (`.`, `./`, `./.`): relative, only `.` components.
  public static func isRoot(_ path: [UInt8]) -> Bool {
    path.first == 0x2E && path.split(separator: 0x2F).allSatisfy { $0.elementsEqual([0x2E]) }
  }

  /// Applies the attributes of the directories made so far, deepest first.
  func applyDirectoryAttributes() throws {
    let pending = pendingDirectories.sorted { $0.parts.count > $1.parts.count }
    pendingDirectories = []
    for item in pending {
      trimDirectoryCache()
      try apply(
        item.attributes, descriptor: try directoryDescriptor(item.parts, entry: item.text), text: item.text,
        keeping: Self.directoryModeBits)
    }
  }

  /// Whether a symbolic link at `path` to `target` stays inside the output directory
  /// whatever other links it passes through: the target is relative, and consists of `..`
  /// components (never climbing above the root, counted from the link's directory) followed
  /// only by names (a `..` after a name could climb out through a link to a directory).
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a refused link name (see ``components(of:)``).
  public static func linkStaysInside(_ path: [UInt8], target: [UInt8]) throws -> Bool {
    let depth = try components(of: path).count - 1
    guard !target.isEmpty, target.first != 0x2F, !target.contains(0) else { return false }
    var climbed = 0
    var descending = false
    for component in target.split(separator: 0x2F, omittingEmptySubsequences: true) {
      if component.elementsEqual([0x2E]) { continue }
      if component.elementsEqual([0x2E, 0x2E]) {
        climbed += 1
        if descending || climbed > depth { return false }
      } else {
        descending = true
      }
    }
    return true
  }

  /// Creates the symbolic link `path` to `target` (with the link's own modification time when
  /// given), refusing a target that could lead outside the output directory (see
  /// ``linkStaysInside(_:target:)``).
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a refused name or target, `.outputExists`
  ///   when the name exists and overwriting was not requested, `.io`.
  public func makeSymbolicLink(_ path: [UInt8], target: [UInt8], modificationTime: Int64? = nil) throws {
    trimDirectoryCache()
    let text = String(decoding: path, as: UTF8.self)
    let targetText = String(decoding: target, as: UTF8.self)
    guard try Self.linkStaysInside(path, target: target) else {
      let why = target.first == 0x2F ? "it is absolute" : "it could lead outside the output directory"
      throw CotarError(
        .invalidArgument, "refusing symbolic link to '\(targetText)': \(why); it was not created", path: text)
    }
    try placeLink(path, text: text) { (parent: Int32, temporary: [UInt8]) throws(SystemCallError) in
      try Syscall.makeSymbolicLink(target: target, at: parent, bytes: temporary)
      if let modificationTime { try Syscall.setModificationTime(at: parent, bytes: temporary, seconds: modificationTime) }
    }
  }

  /// Makes `path` a hard link of `target`, a file already written under the output directory.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a refused name, `.outputExists` when the
  ///   name exists and overwriting was not requested, `.io` (e.g. the target is missing).
  public func makeHardLink(_ path: [UInt8], to target: [UInt8]) throws {
    trimDirectoryCache()
    let text = String(decoding: path, as: UTF8.self)
    let targetParts = try Self.components(of: target)
    let targetParent = try directoryDescriptor(Array(targetParts.dropLast()), entry: text)
    let targetName = targetParts[targetParts.count - 1]
    try placeLink(path, text: text) { (parent: Int32, temporary: [UInt8]) throws(SystemCallError) in
      try Syscall.link(at: targetParent, bytes: targetName, to: parent, bytes: temporary)
    }
  }

  /// Creates a link with `create` under a temporary name beside `path`, then moves it into
  /// place as a file is.
  private func placeLink(
    _ path: [UInt8], text: String, _ create: (Int32, [UInt8]) throws(SystemCallError) -> Void
  ) throws {
    let parts = try Self.components(of: path)
    let parent = try directoryDescriptor(Array(parts.dropLast()), entry: text)
    let name = parts[parts.count - 1]
    removeLeftoverTemporaries(of: name, in: parent)
    for _ in 0..<16 {
      let temporary = Self.temporaryName(for: name)
      do {
        _ = try PendingTemporaryFiles.create { () throws(SystemCallError) in
          try create(parent, temporary)
          return (-1, PendingTemporaryFiles.Entry(directory: parent, name: temporary))
        }
      } catch where error.errno == EEXIST {
        continue
      } catch {
        throw error.cotarError("cannot create the link", path: text, source: directory)
      }
      let file = TemporaryFile(
        parent: parent, name: name, path: Array(parts.joined(separator: [0x2F])), temporary: temporary, text: text, descriptor: -1)
      defer { file.cleanUp() }
      try commit(file)
      return
    }
    throw CotarError(.io, "cannot create a temporary link: 16 names taken", path: text, source: directory)
  }
}
