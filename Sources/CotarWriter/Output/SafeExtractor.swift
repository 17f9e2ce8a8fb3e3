import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes entries under a directory without ever writing outside it (what `cotar get -o DIR`
/// and `cotar extract` use; directories, symbolic and hard links are in
/// `SafeExtractor+Tree.swift`).
///
/// * Names are raw bytes: `bad\xff` and `bad\xfe` are two files.
/// * A name that is empty, absolute, contains NUL or a `..` component is refused (the caller
///   reports it and goes on with the rest).
/// * Every directory component is opened with `openat(…, O_NOFOLLOW | O_DIRECTORY)` from the
///   output directory, so a symbolic link already inside it is never followed; missing
///   directories are created with `mkdirat`.
/// * Each file is written to a temporary file created with `O_CREAT | O_EXCL | O_NOFOLLOW`
///   in its directory and renamed into place (`renameat`, or `linkat` when an existing file
///   must not be replaced), so a reader never sees a partial file.
/// * A temporary file is held under an exclusive `flock` while it is written and registered
///   for removal on SIGINT/SIGTERM (``AtomicFileWriter/removePendingTemporaryFiles()``). The
///   first time an entry `NAME` is written in a directory, leftovers of a killed run beside it
///   (`.NAME.cotar-tmp-X`, see ``removeLeftoverTemporaries(of:in:)``) are removed.
/// * Durability is one batched step: ``finish()`` calls `syncfs(2)` once for the file system
///   of the output directory instead of one `fsync` per file. A failure there is reported.
public final class SafeExtractor {
  /// The output directory, as given.
  public let directory: String
  private let overwrite: Bool
  var root: Int32
  /// Open directory descriptors by relative directory path (raw bytes); at most about
  /// ``directoryCacheLimit`` (see ``trimDirectoryCache()``).
  var directories: [[UInt8]: Int32] = [:]
  /// When each cached directory was last handed out (a count of uses): the least recently
  /// used are closed first.
  var directoryLastUse: [[UInt8]: Int] = [:]
  /// Uses of the directory cache so far.
  var directoryUses = 0
  /// Lookups of directory paths in the cache so far: about two per entry when entries come
  /// in tree order, however deep (a diagnostic; the walk from the root it replaced made one
  /// per level).
  public internal(set) var directoryCacheLookups = 0
  /// Directory descriptors kept open at most between two operations: a tree of many
  /// directories (a tile pyramid) must not run into the open-file limit (1,024 by default).
  static let directoryCacheLimit = 256
  /// Levels nearest an entry kept open by a walk even above ``directoryCacheLimit`` (closed
  /// later by ``trimDirectoryCache()``, if unused).
  static let directoryTailKept = 16
  /// Files written so far.
  public internal(set) var filesWritten = 0
  /// Directories (relative paths, `""` for the output directory itself) this extractor
  /// created, implied by a path or as members, or was given as members
  /// (``makeDirectory(_:attributes:)``): what an extract summary counts.
  public internal(set) var directoriesMade: Set<[UInt8]> = []
  /// Directories whose mode and time are set by ``finish()`` (after their contents are in).
  var pendingDirectories: [(parts: [[UInt8]], text: String, attributes: Attributes)] = []
  /// Per open directory, temporary names found there on its first use, by the entry name
  /// they were made for (see ``removeLeftoverTemporaries(of:in:)``).
  var leftovers: [Int32: [[UInt8]: [[UInt8]]]] = [:]

  /// Opens (creating it when missing) the output directory.
  ///
  /// - Parameters:
  ///   - directory: where entries go; it may itself be reached through a symbolic link.
  ///   - overwrite: replace existing files; otherwise an existing file is an error.
  /// - Throws: `CotarError` `.io` when the directory cannot be created or opened.
  public init(directory: String, overwrite: Bool) throws {
    self.directory = directory
    self.overwrite = overwrite
    do {
      try Syscall.makeDirectory(directory)
    } catch where error.errno == EEXIST {
    } catch {
      throw error.cotarError("cannot create directory", source: directory)
    }
    do {
      root = try Syscall.open(directory, O_RDONLY | O_DIRECTORY)
    } catch {
      throw error.cotarError("cannot open the output directory", source: directory)
    }
  }

  deinit { closeAll() }

  /// The checked components of an entry name.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for an empty or absolute name, a NUL byte or
  ///   a `..` component.
  public static func components(of path: [UInt8]) throws -> [[UInt8]] {
    let text = String(decoding: path, as: UTF8.self)
    guard !path.contains(0) else {
      throw CotarError(.invalidArgument, "refusing entry whose name contains a NUL byte", path: text)
    }
    guard path.first != 0x2F else {
      throw CotarError(.invalidArgument, "refusing entry with an absolute name (it would be written outside the output directory)", path: text)
    }
    let parts = path.split(separator: 0x2F, omittingEmptySubsequences: true).map(Array.init).filter { $0 != [0x2E] }
    guard !parts.contains([0x2E, 0x2E]) else {
      throw CotarError(.invalidArgument, "refusing entry whose name contains '..' (it would be written outside the output directory)", path: text)
    }
    guard !parts.isEmpty else { throw CotarError(.invalidArgument, "refusing entry with an empty name", path: text) }
    return parts
  }

  /// Writes `bytes` as the entry `path` under the output directory.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a refused name (see
  ///   ``components(of:)``) or a symbolic link or file in the way of a directory,
  ///   `.outputExists` when the file exists and overwriting was not requested, `.io`.
  public func write(_ bytes: [UInt8], to path: [UInt8], attributes: Attributes? = nil) throws {
    let file = try createTemporary(for: path)
    defer { file.cleanUp() }
    do {
      try Syscall.write(file.descriptor, bytes[...])
    } catch {
      throw error.cotarError("write failed", path: file.text, source: directory)
    }
    try apply(attributes, to: file)
    try commit(file)
  }

  /// Writes a located entry of `cotar` as the entry `path` under the output directory,
  /// streamed in bounded memory (see ``Cotar/read(_:toFileDescriptor:named:options:progress:)``:
  /// a kernel copy from a local archive, parallel range reads from a remote one).
  ///
  /// - Parameter progress: called with the entry bytes written so far.
  /// - Throws: as ``write(_:to:attributes:)``, the errors of reading the archive, and
  ///   `CancellationError` when cancelled (the temporary file is removed).
  public func write(
    _ entry: CotarEntry, of cotar: Cotar, to path: [UInt8], attributes: Attributes? = nil,
    options: StreamOptions = StreamOptions(), progress: ((UInt64) -> Void)? = nil
  ) async throws {
    let file = try createTemporary(for: path)
    defer { file.cleanUp() }
    try await cotar.read(
      entry, toFileDescriptor: file.descriptor, named: "\(directory)/\(file.text)", options: options, progress: progress)
    try apply(attributes, to: file)
    try commit(file)
  }

  /// A temporary file being written beside its final name.
  final class TemporaryFile {
    let parent: Int32
    let name: [UInt8]
    /// The entry's checked components joined by `/` (as ``directoriesMade`` keys them).
    let path: [UInt8]
    let temporary: [UInt8]
    let text: String
    var descriptor: Int32
    var committed = false
    /// The registration that lets SIGINT/SIGTERM remove the file.
    var pendingEntry: PendingTemporaryFiles.Entry { PendingTemporaryFiles.Entry(directory: parent, name: temporary) }

    init(parent: Int32, name: [UInt8], path: [UInt8], temporary: [UInt8], text: String, descriptor: Int32) {
      self.parent = parent
      self.name = name
      self.path = path
      self.temporary = temporary
      self.text = text
      self.descriptor = descriptor
    }

    /// Closes the file and, unless it was moved into place, removes the temporary name.
    func cleanUp() {
      closeDescriptor()
      if !committed { try? Syscall.unlink(at: parent, bytes: temporary) }
      PendingTemporaryFiles.remove(pendingEntry)
    }

    func closeDescriptor() {
      if descriptor >= 0 { Syscall.close(descriptor) }
      descriptor = -1
    }
  }

  /// A hidden temporary name beside `name` (`.NAME.cotar-tmp-RANDOM`, the name cut to 200 bytes),
  /// for a file or link created first and renamed into place.
  static func temporaryName(for name: [UInt8]) -> [UInt8] {
    Array(".".utf8) + name.prefix(200) + Array("\(TemporaryNames.marker)\(String(UInt32.random(in: 0...UInt32.max), radix: 36))".utf8)
  }

  /// Checks `path`, opens its directory and creates a temporary file in it with
  /// `O_CREAT | O_EXCL | O_NOFOLLOW`.
  func createTemporary(for path: [UInt8]) throws -> TemporaryFile {
    trimDirectoryCache()
    let parts = try Self.components(of: path)
    let text = String(decoding: path, as: UTF8.self)
    let parent = try directoryDescriptor(Array(parts.dropLast()), entry: text)
    let name = parts[parts.count - 1]
    removeLeftoverTemporaries(of: name, in: parent)
    for _ in 0..<16 {
      let temporary = Self.temporaryName(for: name)
      do {
        let fd = try PendingTemporaryFiles.create { () throws(SystemCallError) in
          let fd = try Syscall.open(at: parent, bytes: temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o644)
          // Held until the file is closed: tells a later run that this temporary file is alive.
          _ = Syscall.tryLockExclusive(fd)
          return (fd, PendingTemporaryFiles.Entry(directory: parent, name: temporary))
        }.descriptor
        return TemporaryFile(
          parent: parent, name: name, path: Array(parts.joined(separator: [0x2F])), temporary: temporary, text: text, descriptor: fd)
      } catch where error.errno == EEXIST {
        continue
      } catch {
        throw error.cotarError("cannot create a temporary file", path: text, source: directory)
      }
    }
    throw CotarError(.io, "cannot create a temporary file: 16 names taken", path: text, source: directory)
  }

  /// Closes the written file and moves it to its final name.
  ///
  /// A directory, device, FIFO or socket at the name is refused with its kind, even with
  /// `--force` (``OutputGuard/refuseNonRegular(named:in:entry:directory:madeByThisRun:)``).
  /// With `--force` the check is an `fstatat` right before `renameat`, relative to the same
  /// directory descriptor; the window left is between those two calls, where only someone
  /// who can already write in that directory (and so delete the node) could put a node
  /// there. Without `--force`, `linkat` never replaces anything; its `EEXIST` is explained
  /// by the same check.
  func commit(_ file: TemporaryFile) throws {
    file.closeDescriptor()
    if overwrite { try refuseNode(at: file) }
    do {
      if overwrite {
        try Syscall.rename(at: file.parent, bytes: file.temporary, to: file.name)
      } else {
        try Syscall.link(at: file.parent, bytes: file.temporary, to: file.name)
      }
    } catch where error.errno == EEXIST || error.errno == EISDIR || error.errno == ENOTEMPTY {
      try refuseNode(at: file)
      throw CotarError(
        .outputExists, "the file exists; pass --force to replace it", path: file.text, source: directory, cause: error)
    } catch {
      throw error.cotarError("cannot move the file into place", path: file.text, source: directory)
    }
    file.committed = overwrite  // linkat leaves the temporary name behind: cleanUp removes it
    filesWritten += 1
  }

  /// Refuses a directory, device, FIFO or socket at the final name of `file`.
  private func refuseNode(at file: TemporaryFile) throws {
    try OutputGuard.refuseNonRegular(
      named: file.name, in: file.parent, entry: file.text, directory: directory,
      madeByThisRun: directoriesMade.contains(file.path))
  }

  /// Makes every file written so far durable with one `syncfs(2)` of the output file system,
  /// then closes the directories.
  ///
  /// - Throws: `CotarError` `.io` when the flush fails (the files may not be durable).
  public func finish() throws {
    defer { closeAll() }
    guard root >= 0 else { return }
    try applyDirectoryAttributes()
    do {
      try Syscall.syncFileSystem(of: root)
    } catch {
      throw error.cotarError("flushing the extracted files failed", source: directory)
    }
  }

  private func closeAll() {
    for fd in directories.values { Syscall.close(fd) }
    directories.removeAll()
    directoryLastUse.removeAll()
    if root >= 0 {
      Syscall.close(root)
      root = -1
    }
  }

  /// The descriptor of the directory `parts` below the root, opening (and creating) each
  /// component without following symbolic links. It starts from the deepest directory
  /// already open, looked for from `parts` itself upwards: an entry's directory or its
  /// parent is usually open, so a deep tree costs a lookup or two per entry, not one per level.
  func directoryDescriptor(_ parts: [[UInt8]], entry: String) throws -> Int32 {
    let path = Array(parts.joined(separator: [0x2F]))
    var ends: [Int] = []  // ends[i]: the length of parts[0...i] joined
    ends.reserveCapacity(parts.count)
    for part in parts { ends.append((ends.last.map { $0 + 1 } ?? 0) + part.count) }
    var opened = parts.count
    var current = root
    directoryUses += 1
    while opened > 0 {
      let prefix = Array(path[..<ends[opened - 1]])
      directoryCacheLookups += 1
      if let known = directories[prefix] {
        current = known
        directoryLastUse[prefix] = directoryUses
        break
      }
      opened -= 1
    }
    // A directory on the way opened here is kept while the cache has room, and the last
    // ``directoryTailKept`` levels always are (the next entry is most likely beside this one,
    // or, as ``finish()`` goes, in its parent); one not kept is closed once its child is open.
    var unkept: Int32?
    defer { if let unkept { Syscall.close(unkept) } }
    for index in opened..<parts.count {
      let part = parts[index]
      let walked = Array(path[..<ends[index]])
      let fd: Int32
      let created: Bool
      do {
        (fd, created) = try Self.openDirectory(part, in: current, entry: entry)
      } catch where error.errno == ELOOP || error.errno == ENOTDIR {
        throw CotarError(
          .invalidArgument,
          "refusing to write through '\(String(decoding: walked, as: UTF8.self))': it is a symbolic link or a file in the output directory, not a directory",
          path: entry, source: directory, cause: error)
      } catch {
        throw error.cotarError(
          "cannot open directory '\(String(decoding: walked, as: UTF8.self))'", path: entry, source: directory)
      }
      if let previous = unkept {
        Syscall.close(previous)
        unkept = nil
      }
      if created { directoriesMade.insert(walked) }
      if index >= parts.count - Self.directoryTailKept || directories.count < Self.directoryCacheLimit {
        directories[walked] = fd
        directoryLastUse[walked] = directoryUses
        // A directory this run made holds no killed run's leftovers: no need to list it.
        if created { leftovers[fd] = [:] }
      } else {
        unkept = fd
      }
      current = fd
    }
    return current
  }

  /// Closes the least recently used half of the cached directory descriptors when more than
  /// ``directoryCacheLimit`` are open. Called where an operation starts, never inside one, so
  /// a descriptor it was handed stays valid until it ends; a directory needed again is opened
  /// again (from its deepest open ancestor, without following links, as the first time) and
  /// listed again for leftovers.
  func trimDirectoryCache() {
    guard directories.count > Self.directoryCacheLimit else { return }
    let oldest = directoryLastUse.sorted { $0.value < $1.value }.prefix(directories.count / 2).map(\.key)
    for path in oldest {
      guard let fd = directories.removeValue(forKey: path) else { continue }
      directoryLastUse[path] = nil
      Syscall.close(fd)
      leftovers[fd] = nil
    }
  }

  /// Opens the directory `name` in `parent` without following a symbolic link, creating it
  /// when missing; `created` tells whether this call made it.
  private static func openDirectory(
    _ name: [UInt8], in parent: Int32, entry: String
  ) throws(SystemCallError) -> (fd: Int32, created: Bool) {
    let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW
    do {
      return (try Syscall.open(at: parent, bytes: name, flags), false)
    } catch where error.errno == ENOENT {
      var created = true
      do {
        try Syscall.makeDirectory(at: parent, bytes: name)
      } catch where error.errno == EEXIST {
        created = false
      }
      return (try Syscall.open(at: parent, bytes: name, flags), created)
    }
  }
}
