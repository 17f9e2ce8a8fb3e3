import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Walks files and directories given on a command line and returns what to archive, sorted
/// bytewise by archive path, with each path once.
///
/// Inputs are resolved against a base directory (the current directory by default), like
/// `tar -C BASE`: a relative input is taken relative to the base and an absolute input must
/// lie inside it. Archive names are relative to the base, lexically normalised (no `.`
/// components, no `//`), and may not climb out of it with `..`. Symbolic links are recorded
/// with `lstat(2)`/`readlink(2)` and never followed. Sockets, FIFOs and devices are skipped
/// with a warning.
public struct TarInputCollector: Sendable {
  /// What to collect.
  public struct Options: Sendable, Hashable {
    /// The directory archive names are relative to.
    public var base: String = "."
    /// Whether directories become members of their own (otherwise only their contents do).
    public var includeDirectories = false

    /// Creates options.
    public init(base: String = ".", includeDirectories: Bool = false) {
      self.base = base
      self.includeDirectories = includeDirectories
    }
  }

  /// The collected inputs and anything skipped.
  public struct Collection: Sendable {
    /// Inputs sorted bytewise by archive path, unique.
    public var inputs: [TarInput]
    /// One line per object skipped (sockets, FIFOs, devices).
    public var warnings: [String]
  }

  /// The options in use.
  public let options: Options

  /// Creates a collector.
  public init(options: Options = Options()) { self.options = options }

  /// Collects `paths` and everything below those that are directories.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for an input outside the base directory or
  ///   an empty list, `.io` naming the path when an input does not exist or a directory
  ///   cannot be read.
  public func collect(_ paths: [String]) throws -> Collection {
    guard !paths.isEmpty else { throw CotarError(.invalidArgument, "give at least one file or directory") }
    let baseComponents = try Self.absoluteComponents(options.base)
    var found: [[UInt8]: TarInput] = [:]
    var warnings: [String] = []
    let resolvedBase = try Self.resolvedComponents(options.base, display: options.base)
    for path in paths {
      let relative = try relativeComponents(of: path, baseComponents: baseComponents)
      try checkInsideBase(relative, resolvedBase: resolvedBase, input: path)
      let archivePath = Self.join(relative)
      let filesystemPath = Self.filesystemPath(base: options.base, relative: archivePath)
      try walk(archivePath: archivePath, filesystemPath: filesystemPath, into: &found, warnings: &warnings)
    }
    let sorted = found.values.sorted { [UInt8].bytewiseLess($0.archivePath, $1.archivePath) }
    return Collection(inputs: sorted, warnings: warnings)
  }

  private func walk(
    archivePath: [UInt8], filesystemPath: [UInt8], into found: inout [[UInt8]: TarInput], warnings: inout [String]
  ) throws {
    let display = String(decoding: filesystemPath, as: UTF8.self)
    let info: stat
    do {
      info = try Syscall.linkStatus(bytes: filesystemPath)
    } catch {
      throw error.cotarError("cannot read", source: display)
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG:
      guard !archivePath.isEmpty else { throw CotarError(.invalidArgument, "the base directory is a file", source: display) }
      found[archivePath] = TarInput(
        archivePath: archivePath, filesystemPath: filesystemPath,
        kind: .file(size: UInt64(info.st_size), executable: info.st_mode & 0o111 != 0),
        identity: FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)),
        changeTime: Self.nanoseconds(info.changeTime))
    case S_IFLNK:
      guard !archivePath.isEmpty else { throw CotarError(.invalidArgument, "the base directory is a symbolic link", source: display) }
      let target = try Self.readLink(filesystemPath, display: display)
      found[archivePath] = TarInput(archivePath: archivePath, filesystemPath: filesystemPath, kind: .symbolicLink(target: target))
    case S_IFDIR:
      if options.includeDirectories && !archivePath.isEmpty {
        found[archivePath] = TarInput(archivePath: archivePath, filesystemPath: filesystemPath, kind: .directory)
      }
      for name in try Self.directoryEntries(filesystemPath, display: display) {
        let childArchive = archivePath.isEmpty ? name : archivePath + [0x2F] + name
        let childPath = filesystemPath.last == 0x2F ? filesystemPath + name : filesystemPath + [0x2F] + name
        try walk(archivePath: childArchive, filesystemPath: childPath, into: &found, warnings: &warnings)
      }
    default:
      warnings.append("skipped \(display): not a regular file, directory or symbolic link")
    }
  }

  /// Refuses an input whose parent directories resolve outside the base (through a
  /// symbolic link to a directory elsewhere); the input itself is never followed.
  private func checkInsideBase(_ relative: [[UInt8]], resolvedBase: [[UInt8]], input: String) throws {
    guard relative.count > 1 else { return }
    let parent = Self.filesystemPath(base: options.base, relative: Self.join(relative.dropLast()))
    let display = String(decoding: parent, as: UTF8.self)
    let resolved = try Self.resolvedComponents(display, display: input)
    guard resolved.starts(with: resolvedBase) else {
      throw CotarError(
        .invalidArgument,
        "input resolves outside the base directory '\(options.base)' through a symbolic link ('\(display)' is '/\(String(decoding: Self.join(resolved), as: UTF8.self))'); name it from inside the base",
        source: input)
    }
  }

  /// The components of `path` with every symbolic link resolved (`realpath(3)`).
  static func resolvedComponents(_ path: String, display: String) throws -> [[UInt8]] {
    do {
      return split(Array(try Syscall.realPath(path).utf8))
    } catch {
      throw error.cotarError("cannot read", source: display)
    }
  }

  /// A `stat` time as nanoseconds since 1970 (saturating: never traps on a hostile time).
  package static func nanoseconds(_ time: (seconds: Int64, nanoseconds: Int64)) -> Int64 {
    time.seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue &+ time.nanoseconds
  }

  /// Opens a listed regular file for reading without following a symbolic link or blocking
  /// on a FIFO, and checks that it is still a regular file and, when `identity` is given, the
  /// same object (device and inode) the walk saw.
  ///
  /// - Returns: the descriptor (the caller closes it) and its `fstat`.
  /// - Throws: `CotarError` `.io` naming the file when it cannot be opened or was replaced.
  package static func openListedFile(
    _ path: [UInt8], identity: FileIdentity?, display: String, member: String?
  ) throws -> (Int32, stat) {
    let fd: Int32
    do {
      fd = try Syscall.open(bytes: path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
    } catch where error.errno == ELOOP {
      throw error.cotarError(
        "cannot open for reading: it was replaced by a symbolic link since it was listed", path: member, source: display)
    } catch {
      throw error.cotarError("cannot open for reading", path: member, source: display)
    }
    let info: stat
    do {
      info = try Syscall.status(of: fd)
    } catch {
      Syscall.close(fd)
      throw error.cotarError("cannot stat", path: member, source: display)
    }
    let sameObject = identity.map { UInt64(info.st_dev) == $0.device && UInt64(info.st_ino) == $0.inode } ?? true
    guard info.st_mode & S_IFMT == S_IFREG, sameObject else {
      Syscall.close(fd)
      throw CotarError(
        .io, "the file was replaced since it was listed (it is no longer the same regular file); archive it again",
        path: member, source: display)
    }
    // Back to blocking reads for the copy (O_NONBLOCK was only for the open).
    do {
      try Syscall.clearNonBlocking(fd)
    } catch {
      Syscall.close(fd)
      throw error.cotarError("cannot open for reading", path: member, source: display)
    }
    return (fd, info)
  }

  /// Archive-name components of `path` relative to the base.
  private func relativeComponents(of path: String, baseComponents: [[UInt8]]) throws -> [[UInt8]] {
    let bytes = Array(path.utf8)
    if bytes.first == 0x2F {
      let absolute = try Self.normalise(Self.split(bytes), path: path)
      guard absolute.starts(with: baseComponents) else {
        throw CotarError(
          .invalidArgument, "input is outside the base directory '\(options.base)'; pass --base to a directory that contains it",
          source: path)
      }
      return Array(absolute.dropFirst(baseComponents.count))
    }
    return try Self.normalise(Self.split(bytes), path: path)
  }

  /// The absolute, lexically normalised components of `path`.
  static func absoluteComponents(_ path: String) throws -> [[UInt8]] {
    var bytes = Array(path.utf8)
    if bytes.first != 0x2F {
      let cwd: [UInt8]
      do {
        cwd = try Syscall.currentDirectory()
      } catch {
        throw error.cotarError("cannot read the current directory")
      }
      bytes = cwd + [0x2F] + bytes
    }
    return try normalise(split(bytes), path: path)
  }

  static func split(_ bytes: [UInt8]) -> [[UInt8]] {
    bytes.split(separator: 0x2F, omittingEmptySubsequences: true).map(Array.init)
  }

  /// Drops `.`, resolves `..` lexically; climbing above the start is an error.
  static func normalise(_ components: [[UInt8]], path: String) throws -> [[UInt8]] {
    var result: [[UInt8]] = []
    for component in components {
      if component == [0x2E] { continue }
      if component == [0x2E, 0x2E] {
        guard !result.isEmpty else {
          throw CotarError(.invalidArgument, "input climbs out of the base directory with '..'", source: path)
        }
        result.removeLast()
        continue
      }
      result.append(component)
    }
    return result
  }

  static func join(_ components: [[UInt8]]) -> [UInt8] {
    Array(components.joined(separator: [0x2F]))
  }

  static func filesystemPath(base: String, relative: [UInt8]) -> [UInt8] {
    let baseBytes = Array(base.utf8)
    if relative.isEmpty { return baseBytes.isEmpty ? [0x2E] : baseBytes }
    if baseBytes.isEmpty || baseBytes == [0x2E] { return relative }
    return baseBytes.last == 0x2F ? baseBytes + relative : baseBytes + [0x2F] + relative
  }

  private static func readLink(_ path: [UInt8], display: String) throws -> [UInt8] {
    do {
      return try Syscall.readLink(bytes: path)
    } catch {
      throw error.cotarError("cannot read symbolic link", source: display)
    }
  }

  private static func directoryEntries(_ path: [UInt8], display: String) throws -> [[UInt8]] {
    do {
      return try Syscall.directoryEntries(bytes: path)
    } catch {
      throw error.cotarError("cannot read directory", source: display)
    }
  }
}
