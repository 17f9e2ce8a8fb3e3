import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
import Synchronization

/// Writes a file atomically: bytes go to a temporary file beside the destination, which is
/// flushed (`fsync`) and then moved into place. Until ``commit()`` the destination is
/// untouched; a writer released or ``discard()``ed before that removes its temporary file.
/// Temporary files of killed runs (`.NAME.tmp-XXXXXX`, not locked by a live writer) are
/// removed by the next writer of the same destination.
public final class AtomicFileWriter {
  /// The final path.
  public let destination: String
  /// The temporary path being written.
  public let temporaryPath: String
  private let overwrite: Bool
  var descriptor: Int32
  private var finished = false
  /// Bytes written so far.
  public internal(set) var bytesWritten: UInt64 = 0

  /// Temporary files of writers not yet committed or discarded, for cleanup on a signal.
  private static let pending = Mutex<Set<String>>([])

  /// Removes the temporary files of every writer still in progress.
  ///
  /// Call it before exiting on SIGINT or SIGTERM so an interrupted run leaves nothing
  /// behind. It is not async-signal-safe: call it from a dispatch signal source, not from a
  /// raw signal handler.
  public static func removePendingTemporaryFiles() {
    let paths = pending.withLock { paths in
      defer { paths.removeAll() }
      return paths
    }
    for path in paths { unlink(path) }
  }

  /// Creates the temporary file.
  ///
  /// - Parameters:
  ///   - destination: the file to produce.
  ///   - overwrite: replace an existing destination; otherwise an existing one is an error.
  /// - Throws: `CotarError` `.outputExists` when the destination exists and `overwrite` is
  ///   false; `.io` when the temporary file cannot be created.
  public init(destination: String, overwrite: Bool) throws {
    self.destination = destination
    self.overwrite = overwrite
    if !overwrite && access(destination, F_OK) == 0 {
      throw CotarError(.outputExists, "output exists; pass --force to replace it", source: destination)
    }
    let slash = destination.lastIndex(of: "/")
    let directory = slash.map { String(destination[...$0]) } ?? ""
    let name = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
    Self.removeStaleTemporaryFiles(directory: directory, name: name)
    var template = Array("\(directory).\(name).tmp-XXXXXX".utf8CString)
    // Create and register the file under the lock, so a signal handler running
    // ``removePendingTemporaryFiles()`` never sees the file before it is registered.
    let (fd, path, failure) = Self.pending.withLock { pending -> (Int32, String, Int32) in
      let fd = template.withUnsafeMutableBufferPointer { buffer in
        buffer.baseAddress.map { mkstemp($0) } ?? -1
      }
      guard fd >= 0 else { return (fd, "", errno) }
      let path = template.withUnsafeBufferPointer { buffer in
        buffer.baseAddress.map { String(cString: $0) } ?? ""
      }
      pending.insert(path)
      return (fd, path, 0)
    }
    guard fd >= 0 else {
      throw CotarError(.io, "cannot create a temporary file: \(errnoDescription(failure))", source: destination)
    }
    self.descriptor = fd
    self.temporaryPath = path
    fchmod(fd, 0o644)
    // Held until the file is closed: tells a later run that this temporary file is alive.
    _ = flock(fd, LOCK_EX | LOCK_NB)
  }

  /// Removes `.NAME.tmp-XXXXXX` files left beside the destination by a killed run: those no
  /// live writer holds locked (every writer holds an exclusive `flock` on its temporary file
  /// until it commits or discards it) and not modified in the last 2 seconds (so a writer
  /// between `mkstemp` and `flock` is never touched).
  static func removeStaleTemporaryFiles(directory: String, name: String) {
    let prefix = Array(".\(name).tmp-".utf8)
    guard let handle = opendir(directory.isEmpty ? "." : directory) else { return }
    defer { closedir(handle) }
    let now = time(nil)
    while let entry = readdir(handle) {
      let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
      guard entryName.count == prefix.count + 6, entryName.starts(with: prefix) else { continue }
      let path = directory + String(decoding: entryName, as: UTF8.self)
      let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
      guard fd >= 0 else { continue }
      defer { close(fd) }
      var info = stat()
      guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, now - info.st_mtim.tv_sec >= 2,
        flock(fd, LOCK_EX | LOCK_NB) == 0
      else { continue }
      unlink(path)
    }
  }

  deinit {
    if !finished { discard() }
  }

  /// Appends `bytes`, looping until all are written.
  ///
  /// - Throws: `CotarError` `.io` (for example when the disk is full).
  public func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = Glibc.write(descriptor, raw.baseAddress.map { $0 + done }, raw.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          throw CotarError(.io, "write failed: \(errnoDescription(errno))", source: temporaryPath)
        }
        done += n
      }
    }
    bytesWritten += UInt64(bytes.count)
  }

  /// Copies `range` of `source` into the file in 1 MiB chunks.
  ///
  /// - Throws: `CotarError` from the read or the write.
  public func copy(from source: any RangeSource, range: Range<UInt64>) async throws {
    var offset = range.lowerBound
    while offset < range.upperBound {
      let end = min(offset + (1 << 20), range.upperBound)
      try write(try await source.read(offset..<end))
      offset = end
    }
  }

  /// Flushes the file and moves it into place.
  ///
  /// - Throws: `CotarError` `.io` on a flush or rename failure, `.outputExists` when the
  ///   destination appeared meanwhile and overwriting was not requested. The temporary file
  ///   is removed on failure.
  public func commit() throws {
    guard !finished else { return }
    defer { if !finished { discard() } }
    guard fsync(descriptor) == 0 else {
      throw CotarError(.io, "fsync failed: \(errnoDescription(errno))", source: temporaryPath)
    }
    close(descriptor)
    descriptor = -1
    if overwrite {
      guard rename(temporaryPath, destination) == 0 else {
        throw CotarError(.io, "cannot move the output into place: \(errnoDescription(errno))", source: destination)
      }
    } else {
      guard link(temporaryPath, destination) == 0 else {
        let code = errno
        if code == EEXIST {
          throw CotarError(.outputExists, "output exists; pass --force to replace it", source: destination)
        }
        throw CotarError(.io, "cannot move the output into place: \(errnoDescription(code))", source: destination)
      }
      unlink(temporaryPath)
    }
    finished = true
    let path = temporaryPath
    Self.pending.withLock { _ = $0.remove(path) }
  }

  /// Removes the temporary file; the destination is untouched.
  public func discard() {
    if descriptor >= 0 {
      close(descriptor)
      descriptor = -1
    }
    unlink(temporaryPath)
    finished = true
    let path = temporaryPath
    Self.pending.withLock { _ = $0.remove(path) }
  }
}
