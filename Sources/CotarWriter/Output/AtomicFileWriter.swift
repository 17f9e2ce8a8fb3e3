import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a file atomically: bytes go to a temporary file beside the destination, which is
/// flushed (`fsync`) and then moved into place. Until ``commit()`` the destination is
/// untouched; a writer released or ``discard()``ed before that removes its temporary file.
/// Temporary files of killed runs (`.NAME.cotar-tmp-XXXXXX`, not locked by a live writer) are
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

  /// Removes the temporary files of every writer still in progress, ``SafeExtractor``'s
  /// included, and makes later attempts to create one fail (the process is exiting).
  ///
  /// Call it before exiting on SIGINT or SIGTERM so an interrupted run leaves nothing
  /// behind. It is not async-signal-safe: call it from a dispatch signal source, not from a
  /// raw signal handler.
  public static func removePendingTemporaryFiles() {
    PendingTemporaryFiles.removeAll()
  }

  /// Creates the temporary file.
  ///
  /// - Parameters:
  ///   - destination: the file to produce.
  ///   - overwrite: replace an existing destination; otherwise an existing one is an error.
  /// - Throws: `CotarError` `.invalidArgument` when the destination exists and is not a
  ///   regular file (a device, FIFO, socket, directory or symbolic link: see
  ///   ``OutputGuard/refuseNonRegular(destination:)``), even with `overwrite`;
  ///   `.outputExists` when the destination exists and `overwrite` is false; `.io` when the
  ///   temporary file cannot be created.
  public init(destination: String, overwrite: Bool) throws {
    self.destination = destination
    self.overwrite = overwrite
    try OutputGuard.refuseNonRegular(destination: destination)
    if !overwrite && Syscall.exists(destination) {
      throw CotarError(.outputExists, "output exists; pass --force to replace it", source: destination)
    }
    let slash = destination.lastIndex(of: "/")
    let directory = slash.map { String(destination[...$0]) } ?? ""
    let name = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
    Self.removeStaleTemporaryFiles(directory: directory, name: name)
    let template = TemporaryNames.template(directory: directory, name: name)
    // Create and register the file under the lock, so a signal handler running
    // ``removePendingTemporaryFiles()`` never sees the file before it is registered.
    let (fd, path): (Int32, String)
    do {
      let created = try PendingTemporaryFiles.create { () throws(SystemCallError) in
        let file = try Syscall.makeTemporaryFile(template)
        return (file.descriptor, PendingTemporaryFiles.Entry(directory: AT_FDCWD, name: Array(file.path.utf8)))
      }
      (fd, path) = (created.descriptor, String(decoding: created.entry.name, as: UTF8.self))
    } catch {
      throw error.cotarError("cannot create a temporary file", source: destination)
    }
    self.descriptor = fd
    self.temporaryPath = path
    try? Syscall.setPermissions(fd, 0o644)
    // Held until the file is closed: tells a later run that this temporary file is alive.
    _ = Syscall.tryLockExclusive(fd)
  }

  /// Removes `.NAME.cotar-tmp-XXXXXX` files left beside the destination by a killed run, by the
  /// rule of ``TemporaryNames/removeIfAbandoned(_:in:)`` (unlocked, unchanged for 2 seconds).
  static func removeStaleTemporaryFiles(directory: String, name: String) {
    guard let fd = try? Syscall.open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY) else { return }
    defer { Syscall.close(fd) }
    for candidate in TemporaryNames.byEntryName(in: fd)[Array(name.utf8)] ?? [] {
      TemporaryNames.removeIfAbandoned(candidate, in: fd)
    }
  }

  deinit {
    if !finished { discard() }
  }

  /// Appends `bytes`, looping until all are written.
  ///
  /// - Throws: `CotarError` `.io` (for example when the disk is full).
  public func write(_ bytes: [UInt8]) throws {
    do {
      try Syscall.write(descriptor, bytes[...])
    } catch {
      throw error.cotarError("write failed", source: temporaryPath)
    }
    bytesWritten += UInt64(bytes.count)
  }

  /// Copies `range` of `source` into the file in 1 MiB chunks.
  ///
  /// - Throws: `CotarError` from the read or the write; `CancellationError` when the task is
  ///   cancelled (checked before each chunk).
  public func copy(from source: any RangeSource, range: Range<UInt64>) async throws {
    var offset = range.lowerBound
    // A local source is read into one reused chunk: a fresh 1 MiB array per chunk is mapped
    // and unmapped by malloc each time, a page fault for every 4 KiB copied.
    let local = source as? any SynchronousRangeSource
    var chunk: [UInt8] = []
    while offset < range.upperBound {
      try Task.checkCancellation()
      let end = min(offset + (1 << 20), range.upperBound)
      if let local {
        let count = Int(end - offset)
        if chunk.count != count { chunk = [UInt8](repeating: 0, count: count) }
        try chunk.withUnsafeMutableBytes { try local.readSync(offset..<end, into: $0) }
        try write(chunk)
      } else {
        try write(try await source.read(offset..<end))
      }
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
    try flush()
    Syscall.close(descriptor)
    descriptor = -1
    try moveIntoPlace(temporaryPath, to: destination, overwrite: overwrite, what: "the output")
    finished = true
    PendingTemporaryFiles.remove(PendingTemporaryFiles.Entry(directory: AT_FDCWD, name: Array(temporaryPath.utf8)))
  }

  /// Removes the temporary file; the destination is untouched.
  public func discard() {
    if descriptor >= 0 {
      Syscall.close(descriptor)
      descriptor = -1
    }
    try? Syscall.unlink(temporaryPath)
    finished = true
    PendingTemporaryFiles.remove(PendingTemporaryFiles.Entry(directory: AT_FDCWD, name: Array(temporaryPath.utf8)))
  }
}

/// Gives the finished file `from` the name `destination`: `rename(2)` when an existing file
/// may be replaced, else `link(2)` (which refuses an existing name) and `unlink(2)`.
///
/// An existing destination that is not a regular file is refused, never replaced
/// (``OutputGuard/refuseNonRegular(destination:)``).
///
/// - Throws: `CotarError` `.invalidArgument` when `destination` is a device, FIFO, socket,
///   directory or symbolic link; `.outputExists` when `destination` exists and `overwrite`
///   is false, `.io` naming `what` otherwise.
package func moveIntoPlace(_ from: String, to destination: String, overwrite: Bool, what: String) throws {
  if overwrite { try OutputGuard.refuseNonRegular(destination: destination) }
  do {
    if overwrite {
      try Syscall.rename(from, to: destination)
    } else {
      try Syscall.link(from, to: destination)
      try? Syscall.unlink(from)
    }
  } catch where error.errno == EEXIST {
    throw CotarError(.outputExists, "output exists; pass --force to replace it", source: destination, cause: error)
  } catch {
    throw error.cotarError("cannot move \(what) into place", source: destination)
  }
}
