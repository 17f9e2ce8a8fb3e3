import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Writes entries under a directory without ever writing outside it (what `cotar get -o DIR`
/// uses, and what a future `cotar extract` can reuse).
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
/// * Durability is one batched step: ``finish()`` calls `syncfs(2)` once for the file system
///   of the output directory instead of one `fsync` per file. A failure there is reported.
public final class SafeExtractor {
  /// The output directory, as given.
  public let directory: String
  private let overwrite: Bool
  private var root: Int32
  /// Open directory descriptors by relative directory path (raw bytes).
  private var directories: [[UInt8]: Int32] = [:]
  /// Files written so far.
  public private(set) var filesWritten = 0

  /// Opens (creating it when missing) the output directory.
  ///
  /// - Parameters:
  ///   - directory: where entries go; it may itself be reached through a symbolic link.
  ///   - overwrite: replace existing files; otherwise an existing file is an error.
  /// - Throws: `CotarError` `.io` when the directory cannot be created or opened.
  public init(directory: String, overwrite: Bool) throws {
    self.directory = directory
    self.overwrite = overwrite
    if mkdir(directory, 0o755) != 0 && errno != EEXIST {
      throw CotarError(.io, "cannot create directory: \(errnoDescription(errno))", source: directory)
    }
    root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard root >= 0 else {
      throw CotarError(.io, "cannot open the output directory: \(errnoDescription(errno))", source: directory)
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
  public func write(_ bytes: [UInt8], to path: [UInt8]) throws {
    let parts = try Self.components(of: path)
    let text = String(decoding: path, as: UTF8.self)
    let parent = try directoryDescriptor(Array(parts.dropLast()), entry: text)
    let name = parts[parts.count - 1]
    var temporary: [UInt8] = []
    var fd: Int32 = -1
    for _ in 0..<16 {
      temporary = Array(".".utf8) + name.prefix(200) + Array(".tmp-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))".utf8)
      fd = Self.withCString(temporary) { openat(parent, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644) }
      if fd >= 0 || errno != EEXIST { break }
    }
    guard fd >= 0 else {
      throw CotarError(.io, "cannot create a temporary file: \(errnoDescription(errno))", path: text, source: directory)
    }
    var committed = false
    defer {
      if fd >= 0 { close(fd) }
      if !committed { _ = Self.withCString(temporary) { unlinkat(parent, $0, 0) } }
    }
    try bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = Glibc.write(fd, raw.baseAddress.map { $0 + done }, raw.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          throw CotarError(.io, "write failed: \(errnoDescription(errno))", path: text, source: directory)
        }
        done += n
      }
    }
    close(fd)
    fd = -1
    let status = Self.withCString(temporary) { from in
      Self.withCString(name) { to in overwrite ? renameat(parent, from, parent, to) : linkat(parent, from, parent, to, 0) }
    }
    guard status == 0 else {
      let code = errno
      if code == EEXIST {
        throw CotarError(.outputExists, "the file exists; pass --force to replace it", path: text, source: directory)
      }
      throw CotarError(.io, "cannot move the file into place: \(errnoDescription(code))", path: text, source: directory)
    }
    committed = overwrite  // linkat leaves the temporary name behind: the defer removes it
    filesWritten += 1
  }

  /// Makes every file written so far durable with one `syncfs(2)` of the output file system,
  /// then closes the directories.
  ///
  /// - Throws: `CotarError` `.io` when the flush fails (the files may not be durable).
  public func finish() throws {
    defer { closeAll() }
    guard root >= 0 else { return }
    guard Self.syncFileSystem(root) == 0 else {
      throw CotarError(.io, "flushing the extracted files failed: \(errnoDescription(errno))", source: directory)
    }
  }

  /// `syncfs(2)` of the file system holding `fd` (looked up at run time: Swift's Glibc module
  /// does not declare it), or `sync(2)` of all file systems where it is missing.
  static func syncFileSystem(_ fd: Int32) -> Int32 {
    typealias SyncFS = @convention(c) (Int32) -> Int32
    if let symbol = dlsym(nil, "syncfs") { return unsafeBitCast(symbol, to: SyncFS.self)(fd) }
    sync()
    return 0
  }

  private func closeAll() {
    for fd in directories.values { close(fd) }
    directories.removeAll()
    if root >= 0 {
      close(root)
      root = -1
    }
  }

  /// The descriptor of the directory `parts` below the root, opening (and creating) each
  /// component without following symbolic links.
  private func directoryDescriptor(_ parts: [[UInt8]], entry: String) throws -> Int32 {
    var current = root
    var walked: [UInt8] = []
    for part in parts {
      walked += walked.isEmpty ? part : [0x2F] + part
      if let known = directories[walked] {
        current = known
        continue
      }
      var fd = Self.withCString(part) { openat(current, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
      if fd < 0 && errno == ENOENT {
        if Self.withCString(part, { mkdirat(current, $0, 0o755) }) != 0 && errno != EEXIST {
          throw CotarError(.io, "cannot create directory: \(errnoDescription(errno))", path: entry, source: directory)
        }
        fd = Self.withCString(part) { openat(current, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
      }
      guard fd >= 0 else {
        let code = errno
        let shown = String(decoding: walked, as: UTF8.self)
        if code == ELOOP || code == ENOTDIR {
          throw CotarError(
            .invalidArgument,
            "refusing to write through '\(shown)': it is a symbolic link or a file in the output directory, not a directory",
            path: entry, source: directory)
        }
        throw CotarError(.io, "cannot open directory '\(shown)': \(errnoDescription(code))", path: entry, source: directory)
      }
      directories[walked] = fd
      current = fd
    }
    return current
  }

  /// Calls `body` with `bytes` as a C string; -1 (as a failed call) if that is impossible.
  private static func withCString(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> Int32) -> Int32 {
    let terminated = bytes.map { CChar(bitPattern: $0) } + [0]
    return terminated.withUnsafeBufferPointer { buffer in buffer.baseAddress.map(body) ?? -1 }
  }
}
