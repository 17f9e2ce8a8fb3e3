import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A local file read with `pread(2)`; safe for concurrent reads.
///
/// The descriptor is opened read-only at initialisation and closed by ``close()`` or when the
/// source is released. Short reads and interrupted calls are retried; end of file before the
/// requested end throws `.truncated`. The size is taken once, at open.
public final class FileSource: SynchronousRangeSource {
  /// The path the source was opened with.
  public let path: String
  /// The open descriptor, or -1 once closed.
  private let descriptor: Atomic<Int32>
  fileprivate let fileSize: UInt64

  /// The path, used in messages and cache keys.
  public var identity: String { path }

  /// Opens `path` for reading.
  ///
  /// - Throws: `CotarError` `.io` naming the path when it cannot be opened or is not a
  ///   regular file; its ``CotarError/systemCallError`` tells "not found" from "permission
  ///   denied".
  public init(path: String) throws {
    self.path = path
    let (fd, info) = try openRegularFile(path)
    self.descriptor = Atomic(fd)
    self.fileSize = UInt64(info.st_size)
  }

  /// Takes over an open descriptor of a regular file (closed with the source), such as an
  /// unlinked temporary file; `identity` names it in messages.
  ///
  /// - Throws: `CotarError` `.io` when the descriptor cannot be examined (it is then closed).
  package init(adopting descriptor: Int32, identity: String) throws {
    let info = try statusClosingOnFailure(descriptor, source: identity)
    self.path = identity
    self.descriptor = Atomic(descriptor)
    self.fileSize = UInt64(info.st_size)
  }

  deinit { close() }

  /// Closes the file now rather than when the source is released. Later reads throw
  /// `.invalidArgument`. Do not close a source while reads on it are in flight.
  public func close() {
    let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
    if fd >= 0 { Syscall.close(fd) }
  }

  /// The open descriptor (-1 once closed), for a kernel copy out of the file.
  package var openDescriptor: Int32 { descriptor.load(ordering: .relaxed) }

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
  @inline(__always)
  public func readSync(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) throws {
    if UInt64(buffer.count) < range.upperBound - range.lowerBound { try checkCapacity(of: buffer, for: range) }
    try fill(buffer, from: range)
  }

  /// Fills the first `range.count` bytes of `buffer` with `pread(2)`.
  @inline(__always)
  private func fill(_ buffer: UnsafeMutableRawBufferPointer, from range: Range<UInt64>) throws {
    let fd = descriptor.load(ordering: .relaxed)
    guard fd >= 0 else {
      throw CotarError(.invalidArgument, "the file source was closed", offset: range.lowerBound, source: path)
    }
    let count = Int(range.upperBound - range.lowerBound)
    let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
    let done: Int
    do {
      done = try Syscall.read(fd, into: target, fromAbsoluteOffset: range.lowerBound)
    } catch {
      throw error.cotarError("read failed", offset: range.lowerBound, source: path)
    }
    if done < count {
      throw CotarError(
        .truncated, "file ends at byte \(end(afterShortRead: done, at: range.lowerBound, descriptor: fd)) but bytes up to \(range.upperBound) were needed",
        offset: range.lowerBound + UInt64(done), source: path)
    }
  }

  /// Where the file ends after a read at `start` returned `done` bytes, fewer than asked: right
  /// after them when there were some, else (the read started at or past the end) its size now,
  /// or at open when it cannot be examined.
  private func end(afterShortRead done: Int, at start: UInt64, descriptor fd: Int32) -> UInt64 {
    if done > 0 { return start + UInt64(done) }
    guard let info = try? Syscall.status(of: fd) else { return min(start, fileSize) }
    return min(start, UInt64(max(0, info.st_size)))
  }
}

extension FileSource {
  /// Maps `range` of the file read-only (`mmap`) with `MADV_RANDOM` (no read-ahead around a
  /// fault), for index slots. The size is checked again first: a file that shrank since it
  /// was opened is refused rather than mapped past its end (touching such a page would raise
  /// `SIGBUS`). See SPEC §8.4 for what happens when the file is truncated later.
  ///
  /// - Parameter skip: bytes at the start of `range` that are not slots (a header).
  /// - Throws: `CotarError` `.truncated` when the file is now shorter than `range`,
  ///   `.invalidArgument` once closed, `.io` (cause: the `fstat` or `mmap` failure).
  func mapSlots(_ range: Range<UInt64>, skip: Int, count: Int) throws -> SlotMemory {
    let fd = descriptor.load(ordering: .relaxed)
    guard fd >= 0 else {
      throw CotarError(.invalidArgument, "the file source was closed", offset: range.lowerBound, source: path)
    }
    let info: stat
    do {
      info = try Syscall.status(of: fd)
    } catch {
      throw error.cotarError("cannot stat", source: path)
    }
    let now = UInt64(max(0, info.st_size))
    guard now >= range.upperBound else {
      throw CotarError(
        .truncated,
        "the file is now \(now) bytes (\(fileSize) at open) but its index ends at byte \(range.upperBound); it was truncated while open",
        offset: now, source: path)
    }
    let page = UInt64(Syscall.pageSize)
    let start = range.lowerBound / page * page
    let lead = Int(range.lowerBound - start)
    let length = lead + Int(range.upperBound - range.lowerBound)
    let mapping: UnsafeRawPointer
    do {
      mapping = try Syscall.mapReadOnly(fd, offset: start, length: length)
    } catch {
      throw error.cotarError("cannot map the index", offset: range.lowerBound, source: path)
    }
    // Advice only: a kernel that refuses it still serves the mapping.
    try? Syscall.advise(mapping, length: length, .random)
    return SlotMemory(mapping: mapping, length: length, skip: lead + skip, count: count)
  }
}

/// Opens `path` read-only and checks that it is a regular file.
///
/// The open is non-blocking, so a FIFO (which would wait for a writer), a socket or a device
/// is refused by the `fstat` check instead of hanging; `O_NONBLOCK` is cleared again on the
/// regular file that is returned.
///
/// - Returns: the descriptor (the caller closes it) and the file's `stat`.
/// - Throws: `CotarError` `.io` naming the path, with the failed call as its cause, when it
///   cannot be opened or is not a regular file.
package func openRegularFile(_ path: String, flags: Int32 = O_RDONLY) throws -> (descriptor: Int32, info: stat) {
  let fd: Int32
  do {
    fd = try Syscall.open(path, flags | O_NONBLOCK)
  } catch where error.isNotFound {
    throw CotarError(.notFound, "no such file", source: path, cause: error)
  } catch {
    throw error.cotarError("cannot open", source: path)
  }
  let info = try statusClosingOnFailure(fd, source: path)
  guard (info.st_mode & S_IFMT) == S_IFREG else {
    Syscall.close(fd)
    throw CotarError(.io, "not a regular file: it is \(fileKindName(info.st_mode))", source: path)
  }
  if flags & O_NONBLOCK == 0 {
    do {
      try Syscall.clearNonBlocking(fd)
    } catch {
      Syscall.close(fd)
      throw error.cotarError("cannot open", source: path)
    }
  }
  return (fd, info)
}

/// `fstat` of `descriptor`; on failure the descriptor is closed.
///
/// - Throws: `CotarError` `.io` ("cannot stat") naming `source`, with the failed call as its cause.
private func statusClosingOnFailure(_ descriptor: Int32, source: String) throws -> stat {
  do {
    return try Syscall.status(of: descriptor)
  } catch {
    Syscall.close(descriptor)
    throw error.cotarError("cannot stat", source: source)
  }
}
