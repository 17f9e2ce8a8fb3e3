import CotarCore
#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// An error of the bench itself (not of CotarCore).
struct BenchError: Error, CustomStringConvertible {
  /// What went wrong.
  var description: String

  /// Creates an error with `description`.
  init(_ description: String) { self.description = description }

  /// An error naming the failed call, the path and the current `errno`.
  static func system(_ call: String, _ path: String) -> BenchError {
    let text = strerror(errno).map { String(cString: $0) } ?? "errno \(errno)"
    return BenchError("\(call) \(path): \(text)")
  }
}

/// A file written sequentially with `write(2)`, truncated at open.
final class OutputFile {
  private var descriptor: Int32
  private let path: String

  /// Creates or truncates `path`.
  init(path: String) throws {
    self.path = path
    guard let fd = try? Syscall.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644) else {
      throw BenchError.system("open", path)
    }
    descriptor = fd
  }

  deinit { if descriptor >= 0 { Syscall.close(descriptor) } }

  /// Appends the first `count` bytes of `bytes`.
  func append(_ bytes: [UInt8], count: Int) throws {
    do {
      try Syscall.write(descriptor, bytes[0..<count])
    } catch {
      throw BenchError.system("write", path)
    }
  }

  /// Closes the file.
  func close() throws {
    Syscall.close(descriptor)
    descriptor = -1
  }
}

/// The size of the regular file at `path`, or `nil` when there is none.
func fileSize(_ path: String) -> UInt64? {
  var info = stat()
  guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
  return UInt64(info.st_size)
}

/// Creates `path` and its parents (like `mkdir -p`).
func makeDirectory(_ path: String) throws {
  do {
    try Syscall.makeDirectories(path)
  } catch {
    throw BenchError.system("mkdir", path)
  }
}

/// The whole content of a small text file.
func readSmallFile(_ path: String) throws -> String {
  guard let descriptor = try? Syscall.open(path, O_RDONLY) else { throw BenchError.system("open", path) }
  defer { Syscall.close(descriptor) }
  guard let bytes = try? Syscall.readToEnd(descriptor) else { throw BenchError.system("read", path) }
  return String(decoding: bytes, as: UTF8.self)
}

/// Replaces `path` with `text`.
func writeSmallFile(_ path: String, _ text: String) throws {
  let output = try OutputFile(path: path)
  let bytes = Array(text.utf8)
  try output.append(bytes, count: bytes.count)
  try output.close()
}

/// Reads all of `path` once in 1 MiB chunks so later measurements find it in the page cache.
///
/// - Returns: the number of bytes read.
@discardableResult
func warmPageCache(_ path: String) throws -> UInt64 {
  guard let descriptor = try? Syscall.open(path, O_RDONLY) else { throw BenchError.system("open", path) }
  defer { Syscall.close(descriptor) }
  var buffer = [UInt8](repeating: 0, count: 1 << 20)
  var total: UInt64 = 0
  while true {
    guard let count = try? Syscall.read(descriptor, into: &buffer) else { throw BenchError.system("read", path) }
    if count == 0 { return total }
    total += UInt64(count)
  }
}
