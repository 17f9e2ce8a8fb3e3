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
public final class FileSource: SynchronousRangeSource {
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
    let (fd, info) = try openRegularFile(path)
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

  /// Reads exactly `range` with `pread(2)` straight into `buffer`, with no allocation.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when `buffer` is too small, `.truncated` if the
  ///   file ends early, `.io` on a read error.
  public func read(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) async throws {
    try readSync(range, into: buffer)
  }

  /// Synchronous form of ``read(_:)`` for callers already off the cooperative pool.
  ///
  /// - Throws: as ``read(_:)``.
  public func readSync(_ range: Range<UInt64>) throws -> [UInt8] {
    let count = Int(range.upperBound - range.lowerBound)
    if count == 0 { return [] }
    return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      try fill(UnsafeMutableRawBufferPointer(buffer), from: range)
      initialized = count
    }
  }

  /// Reads exactly `range` with `pread(2)` into the start of `buffer`, without suspending.
  ///
  /// - Throws: as ``read(_:into:)``.
  public func readSync(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) throws {
    try checkCapacity(of: buffer, for: range)
    try fill(buffer, from: range)
  }

  /// Fills the first `range.count` bytes of `buffer` with `pread(2)`, looping on short reads
  /// and `EINTR`.
  private func fill(_ buffer: UnsafeMutableRawBufferPointer, from range: Range<UInt64>) throws {
    let count = Int(range.upperBound - range.lowerBound)
    var done = 0
    while done < count {
      let n = pread(descriptor, buffer.baseAddress.map { $0 + done }, count - done, off_t(range.lowerBound) + off_t(done))
      if n < 0 {
        if errno == EINTR { continue }
        throw CotarError(
          .io, "read failed: \(errnoDescription(errno))", offset: range.lowerBound + UInt64(done), source: path)
      }
      if n == 0 {
        throw CotarError(
          .truncated,
          "file ends at byte \(range.lowerBound + UInt64(done)) but bytes up to \(range.upperBound) were needed",
          offset: range.lowerBound + UInt64(done), source: path)
      }
      done += n
    }
  }
}

/// Opens `path` read-only and checks that it is a regular file.
///
/// - Returns: the descriptor (the caller closes it) and the file's `stat`.
/// - Throws: `CotarError` `.io` naming the path when it cannot be opened or is not a regular file.
package func openRegularFile(_ path: String) throws -> (descriptor: Int32, info: stat) {
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
  return (fd, info)
}

/// The C library's text for an errno value.
package func errnoDescription(_ code: Int32) -> String {
  guard let text = strerror(code) else { return "errno \(code)" }
  return String(cString: text)
}
