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

  /// The target of the symbolic link `path`, as raw bytes (`readlink(2)`).
  package static func readLink(bytes path: [UInt8]) throws(SystemCallError) -> [UInt8] {
    var buffer = [CChar](repeating: 0, count: 4097)
    let capacity = buffer.count - 1
    let count = try retryingInterrupts("readlink") { withCPath(path) { readlink($0, &buffer, capacity) } ?? -1 }
    return buffer.prefix(count).map { UInt8(bitPattern: $0) }
  }

  /// The names in directory `path`, without `.` and `..`, in directory order (`opendir(3)`,
  /// `readdir(3)`).
  package static func directoryEntries(bytes path: [UInt8]) throws(SystemCallError) -> [[UInt8]] {
    guard let opened = withCPath(path, { opendir($0) }), let directory = opened else {
      throw SystemCallError(call: "opendir", errno: errno)
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

  /// The current working directory as raw bytes (`getcwd(3)`).
  package static func currentDirectory() throws(SystemCallError) -> [UInt8] {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { throw SystemCallError(call: "getcwd", errno: errno) }
    return buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  }

  /// Creates and opens a new file from `template`, whose last six characters are `XXXXXX`
  /// (`mkstemp(3)`); returns the descriptor and the path it chose.
  package static func makeTemporaryFile(_ template: String) throws(SystemCallError) -> (descriptor: Int32, path: String) {
    var bytes = Array(template.utf8CString)
    let fd = try retryingInterrupts("mkstemp") {
      bytes.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
    }
    let path = bytes.withUnsafeBufferPointer { buffer in buffer.baseAddress.map { String(cString: $0) } ?? "" }
    return (fd, path)
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
}
