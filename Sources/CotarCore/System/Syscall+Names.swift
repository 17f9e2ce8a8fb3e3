#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

extension Syscall {
  /// Calls `body` with the raw path bytes `path` as a NUL-terminated C string.
  package static func withCPath<Result>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> Result) -> Result? {
    let terminated = path.map { CChar(bitPattern: $0) } + [0]
    return terminated.withUnsafeBufferPointer { buffer in buffer.baseAddress.map(body) }
  }

  /// The status of the raw path `path` itself, not following a final symbolic link (`lstat(2)`).
  package static func linkStatus(bytes path: [UInt8]) throws(SystemCallError) -> stat {
    var info = stat()
    _ = try retryingInterrupts("lstat") { withCPath(path) { lstat($0, &info) } ?? -1 }
    return info
  }

  /// The status of `name` in `directory` itself, not following a final symbolic link
  /// (`fstatat(2)` with `AT_SYMLINK_NOFOLLOW`).
  package static func linkStatus(at directory: Int32, bytes name: [UInt8]) throws(SystemCallError) -> stat {
    var info = stat()
    _ = try retryingInterrupts("fstatat") { withCPath(name) { fstatat(directory, $0, &info, AT_SYMLINK_NOFOLLOW) } ?? -1 }
    return info
  }

  /// The target of the symbolic link `path`, as raw bytes (`readlink(2)`).
  package static func readLink(bytes path: [UInt8]) throws(SystemCallError) -> [UInt8] {
    var buffer = [CChar](repeating: 0, count: 4097)
    let capacity = buffer.count - 1
    let count = try retryingInterrupts("readlink") { withCPath(path) { readlink($0, &buffer, capacity) } ?? -1 }
    return buffer.prefix(count).map { UInt8(bitPattern: $0) }
  }

  /// The names in directory `path`, without `.` and `..`, in directory order (`open(2)` with
  /// `O_DIRECTORY | O_NOFOLLOW`, then `fdopendir(3)` and `readdir(3)`): a directory swapped
  /// for a symbolic link is refused with `ELOOP` or `ENOTDIR`, never followed.
  package static func directoryEntries(bytes path: [UInt8]) throws(SystemCallError) -> [[UInt8]] {
    try directoryEntries(ofOpened: try open(bytes: path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW))
  }

  /// The names in the open directory `directory`, without `.` and `..`, in directory order
  /// (read through a descriptor of its own, `openat(directory, ".")`, so `directory` is left
  /// open and at its position).
  package static func directoryEntries(in directory: Int32) throws(SystemCallError) -> [[UInt8]] {
    try directoryEntries(ofOpened: try open(at: directory, bytes: [0x2E], O_RDONLY | O_DIRECTORY))
  }

  /// The names in the directory open as `fd`, which is closed.
  private static func directoryEntries(ofOpened fd: Int32) throws(SystemCallError) -> [[UInt8]] {
    guard let directory = fdopendir(fd) else {
      let code = errno
      close(fd)
      throw SystemCallError(call: "fdopendir", errno: code)
    }
    defer { closedir(directory) }
    var names: [[UInt8]] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
      if name == [0x2E] || name == [0x2E, 0x2E] { continue }
      names.append(name)
    }
    return names
  }

  /// Creates the directory `name` in `directory` (`mkdirat(2)`).
  package static func makeDirectory(at directory: Int32, bytes name: [UInt8], mode: mode_t = 0o755)
    throws(SystemCallError)
  {
    _ = try retryingInterrupts("mkdirat") { withCPath(name) { mkdirat(directory, $0, mode) } ?? -1 }
  }

  /// Renames `from` to `to`, both in `directory`, replacing `to` (`renameat(2)`).
  package static func rename(at directory: Int32, bytes from: [UInt8], to: [UInt8]) throws(SystemCallError) {
    _ = try retryingInterrupts("renameat") {
      withCPath(from) { source in withCPath(to) { renameat(directory, source, directory, $0) } ?? -1 } ?? -1
    }
  }

  /// Links `to` to `from`, both in `directory`; fails with `EEXIST` when `to` exists (`linkat(2)`).
  package static func link(at directory: Int32, bytes from: [UInt8], to: [UInt8]) throws(SystemCallError) {
    _ = try retryingInterrupts("linkat") {
      withCPath(from) { source in withCPath(to) { linkat(directory, source, directory, $0, 0) } ?? -1 } ?? -1
    }
  }

  /// Removes the name `name` in `directory` (`unlinkat(2)`).
  package static func unlink(at directory: Int32, bytes name: [UInt8]) throws(SystemCallError) {
    _ = try retryingInterrupts("unlinkat") { withCPath(name) { unlinkat(directory, $0, 0) } ?? -1 }
  }

  /// Flushes the file system holding `descriptor` to stable storage: `syncfs(2)` where the C
  /// library has it (looked up at run time; Swift's Glibc module does not declare it), else
  /// `sync(2)` of every file system.
  package static func syncFileSystem(of descriptor: Int32) throws(SystemCallError) {
    typealias SyncFS = @convention(c) (Int32) -> Int32
    guard let symbol = dlsym(nil, "syncfs") else {
      syncEverything()
      return
    }
    let syncfs = unsafeBitCast(symbol, to: SyncFS.self)
    _ = try retryingInterrupts("syncfs") { syncfs(descriptor) }
  }

  /// Creates `path` and its missing parents (`mkdir -p`); an existing directory is fine.
  package static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemCallError) {
    var current = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") {
      current += component + "/"
      do {
        try makeDirectory(current, mode: mode)
      } catch where error.errno == EEXIST {
        continue
      }
    }
  }

  /// Creates a new directory from `template`, whose last six characters are `XXXXXX`
  /// (`mkdtemp(3)`); returns the path it chose.
  package static func makeTemporaryDirectory(_ template: String) throws(SystemCallError) -> String {
    var bytes = Array(template.utf8CString)
    let made = bytes.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkdtemp($0) != nil } ?? false }
    guard made else { throw SystemCallError(call: "mkdtemp", errno: errno) }
    return bytes.withUnsafeBufferPointer { buffer in buffer.baseAddress.map { String(cString: $0) } ?? template }
  }

  /// Removes the empty directory `path` (`rmdir(2)`).
  package static func removeDirectory(_ path: String) throws(SystemCallError) {
    _ = try retryingInterrupts("rmdir") { rmdir(path) }
  }

  /// `path` with every symbolic link, `.` and `..` resolved (`realpath(3)`).
  package static func realPath(_ path: String) throws(SystemCallError) -> String {
    guard let resolved = realpath(path, nil) else { throw SystemCallError(call: "realpath", errno: errno) }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// The current working directory as raw bytes (`getcwd(3)`).
  package static func currentDirectory() throws(SystemCallError) -> [UInt8] {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { throw SystemCallError(call: "getcwd", errno: errno) }
    return buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  }

  /// Creates and opens a new file from `template`, whose last six characters are `XXXXXX`
  /// (`mkstemp(3)`), and marks it close-on-exec at once like every descriptor
  /// ``open(_:_:mode:)`` returns; returns the descriptor and the path it chose. Without the
  /// mark, a child process spawned later (by another thread) would inherit the descriptor and,
  /// with it, the writer's `flock`, which then outlives the writer: a later `append` saw the
  /// archive as locked. (`mkostemp` would close the short window between the two calls, but
  /// Swift's Glibc module does not export it.)
  package static func makeTemporaryFile(_ template: String) throws(SystemCallError) -> (descriptor: Int32, path: String) {
    var bytes = Array(template.utf8CString)
    let fd = try retryingInterrupts("mkstemp") {
      bytes.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
    }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    let path = bytes.withUnsafeBufferPointer { buffer in buffer.baseAddress.map { String(cString: $0) } ?? "" }
    return (fd, path)
  }

  /// Takes an exclusive `flock(2)` on `descriptor` without waiting; `false` when another open
  /// file description holds a lock on the file (or the call fails).
  package static func tryLockExclusive(_ descriptor: Int32) -> Bool {
    flock(descriptor, LOCK_EX | LOCK_NB) == 0
  }

  /// Bytes an unprivileged process may still write on the file system of `descriptor`
  /// (`fstatvfs(2)`: available blocks × fragment size, saturating).
  package static func availableBytes(onFileSystemOf descriptor: Int32) throws(SystemCallError) -> UInt64 {
    var info = statvfs()
    _ = try retryingInterrupts("fstatvfs") { fstatvfs(descriptor, &info) }
    let (bytes, overflow) = UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize))
    return overflow ? .max : bytes
  }
}

extension stat {
  /// The modification time as seconds and nanoseconds since 1970 (`st_mtim` on Linux,
  /// `st_mtimespec` on Darwin).
  package var modificationTime: (seconds: Int64, nanoseconds: Int64) {
    #if canImport(Darwin)
      (Int64(st_mtimespec.tv_sec), Int64(st_mtimespec.tv_nsec))
    #else
      (Int64(st_mtim.tv_sec), Int64(st_mtim.tv_nsec))
    #endif
  }

  /// The status-change time (`ctime`) as seconds and nanoseconds since 1970 (`st_ctim` on
  /// Linux, `st_ctimespec` on Darwin).
  package var changeTime: (seconds: Int64, nanoseconds: Int64) {
    #if canImport(Darwin)
      (Int64(st_ctimespec.tv_sec), Int64(st_ctimespec.tv_nsec))
    #else
      (Int64(st_ctim.tv_sec), Int64(st_ctim.tv_nsec))
    #endif
  }

  /// The status-change time (`ctime`) in seconds since 1970: set by the kernel on every
  /// change, never by `utimensat`, so it tells how long ago a file was last touched.
  package var changeTimeSeconds: Int64 {
    #if canImport(Darwin)
      Int64(st_ctimespec.tv_sec)
    #else
      Int64(st_ctim.tv_sec)
    #endif
  }
}

/// `sync(2)`, under a name that does not clash with ``Syscall/sync(_:)``.
private func syncEverything() { sync() }
