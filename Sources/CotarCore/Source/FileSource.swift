#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A local file read with `pread(2)`; safe for concurrent reads.
///
/// The descriptor is opened read-only at initialisation and closed when the source is
/// released. Short reads and `EINTR` are retried; end of file before the requested end
/// throws `.truncated`. The size is taken once, at open.
public final class FileSource: RangeSource {
  /// The path the source was opened with.
  public let path: String
  private let descriptor: Int32
  private let fileSize: UInt64

  /// The path, used in messages and cache keys.
  public var identity: String { path }

  /// Opens `path` for reading.
  ///
  /// - Throws: `CotarError` `.io` naming the path when it cannot be opened or is not a
  ///   regular file.
  public init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw CotarError(.io, "cannot open for reading: \(errnoDescription(errno))", source: path)
    }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let code = errno
      close(fd)
      throw CotarError(.io, "cannot stat: \(errnoDescription(code))", source: path)
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw CotarError(.io, "not a regular file", source: path)
    }
    self.descriptor = fd
    self.fileSize = UInt64(info.st_size)
  }

  deinit { close(descriptor) }

  /// The file size at open time.
  public func size() async throws -> UInt64 { fileSize }

  /// Reads exactly `range` with `pread(2)`.
  ///
  /// - Throws: `CotarError` `.truncated` if the file ends early, `.io` on a read error.
  public func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    try readSync(range)
  }

  /// Synchronous form of ``read(_:)`` for callers already off the cooperative pool.
  ///
  /// - Throws: as ``read(_:)``.
  public func readSync(_ range: Range<UInt64>) throws -> [UInt8] {
    let count = Int(range.upperBound - range.lowerBound)
    if count == 0 { return [] }
    return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      initialized = 0
      while initialized < count {
        let n = pread(
          descriptor, buffer.baseAddress.map { $0 + initialized }, count - initialized,
          off_t(range.lowerBound) + off_t(initialized))
        if n < 0 {
          if errno == EINTR { continue }
          throw CotarError(
            .io, "read failed: \(errnoDescription(errno))", offset: range.lowerBound + UInt64(initialized), source: path)
        }
        if n == 0 {
          throw CotarError(
            .truncated, "file ends at byte \(range.lowerBound + UInt64(initialized)) but bytes up to \(range.upperBound) were needed",
            offset: range.lowerBound + UInt64(initialized), source: path)
        }
        initialized += n
      }
    }
  }
}

/// The C library's text for an errno value.
func errnoDescription(_ code: Int32) -> String {
  guard let text = strerror(code) else { return "errno \(code)" }
  return String(cString: text)
}
