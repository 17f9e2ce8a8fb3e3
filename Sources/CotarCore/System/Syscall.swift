#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The one place where Cotar calls the operating system.
///
/// Every wrapper retries `EINTR`, loops on short reads and writes where it says so, and turns
/// a failure into a ``SystemCallError`` naming the call and its `errno`. Callers wrap that in
/// a ``CotarError`` with ``SystemCallError/cotarError(_:offset:path:source:)``. Nothing else in
/// the package reads `errno`.
package enum Syscall {
  /// Runs `body` again while it fails with `EINTR`; `-1` is the failure value.
  @inline(__always)
  package static func retryingInterrupts<Result: FixedWidthInteger>(
    _ call: String, _ body: () -> Result
  ) throws(SystemCallError) -> Result {
    while true {
      let result = body()
      if result != -1 { return result }
      let code = errno
      if code != EINTR { throw SystemCallError(call: call, errno: code) }
    }
  }

  // MARK: Descriptors

  /// Opens `path` (`open(2)`) with `O_CLOEXEC` added.
  package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemCallError) -> Int32 {
    try retryingInterrupts("open") { libcOpen(path, flags | O_CLOEXEC, mode) }
  }

  /// Opens the raw path bytes `path` (`open(2)`) with `O_CLOEXEC` added.
  package static func open(bytes path: [UInt8], _ flags: Int32, mode: mode_t = 0) throws(SystemCallError) -> Int32 {
    let cPath = path.map { CChar(bitPattern: $0) } + [0]
    return try retryingInterrupts("open") {
      cPath.withUnsafeBufferPointer { buffer in
        buffer.baseAddress.map { libcOpen($0, flags | O_CLOEXEC, mode) } ?? -1
      }
    }
  }

  /// Opens `name` relative to the directory `directory` (`openat(2)`) with `O_CLOEXEC` added.
  package static func open(at directory: Int32, bytes name: [UInt8], _ flags: Int32, mode: mode_t = 0)
    throws(SystemCallError) -> Int32
  {
    let cName = name.map { CChar(bitPattern: $0) } + [0]
    return try retryingInterrupts("openat") {
      cName.withUnsafeBufferPointer { buffer in
        buffer.baseAddress.map { openat(directory, $0, flags | O_CLOEXEC, mode) } ?? -1
      }
    }
  }

  /// Closes `descriptor`. Errors are ignored: after `close(2)` fails the descriptor is gone
  /// anyway on Linux, and retrying could close a descriptor another thread just opened.
  package static func close(_ descriptor: Int32) {
    _ = libcClose(descriptor)
  }

  /// The status of an open descriptor (`fstat(2)`).
  package static func status(of descriptor: Int32) throws(SystemCallError) -> stat {
    var info = stat()
    _ = try retryingInterrupts("fstat") { fstat(descriptor, &info) }
    return info
  }

  /// The status of `path` itself, not following a final symbolic link (`lstat(2)`).
  package static func linkStatus(_ path: String) throws(SystemCallError) -> stat {
    var info = stat()
    _ = try retryingInterrupts("lstat") { lstat(path, &info) }
    return info
  }

  /// The status of `path`, following symbolic links (`stat(2)`).
  package static func status(_ path: String) throws(SystemCallError) -> stat {
    var info = stat()
    _ = try retryingInterrupts("stat") { stat(path, &info) }
    return info
  }

  // MARK: Reading and writing

  /// One `read(2)` into `buffer`; returns the count (0 at end of file).
  package static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError)
    -> Int
  {
    try retryingInterrupts("read") { libcRead(descriptor, buffer.baseAddress, buffer.count) }
  }

  /// Fills `buffer` from `offset` with `pread(2)`, looping on short reads; returns the count,
  /// which is smaller than `buffer.count` only when the file ends first. The file offset is
  /// left unchanged.
  @inline(__always)
  package static func read(
    _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, fromAbsoluteOffset offset: UInt64
  ) throws(SystemCallError) -> Int {
    var done = 0
    while done < buffer.count {
      let position = off_t(truncatingIfNeeded: offset &+ UInt64(done))
      let count = try retryingInterrupts("pread") {
        pread(descriptor, buffer.baseAddress.map { $0 + done }, buffer.count - done, position)
      }
      if count == 0 { break }
      done += count
    }
    return done
  }

  /// Reads until end of file with `read(2)` (a pipe, a FIFO, a terminal or a file).
  package static func readToEnd(_ descriptor: Int32, limit: Int = .max) throws(SystemCallError) -> [UInt8] {
    var all: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while all.count < limit {
      let count = try read(descriptor, into: &chunk)
      if count == 0 { break }
      all += chunk[0..<count]
    }
    return all
  }

  /// Writes all of `bytes` with `write(2)`, looping on short writes.
  package static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemCallError) {
    var done = 0
    while done < bytes.count {
      done += try retryingInterrupts("write") {
        libcWrite(descriptor, bytes.baseAddress.map { $0 + done }, bytes.count - done)
      }
    }
  }

  /// Writes all of `bytes` at `offset` with `pwrite(2)`, looping on short writes.
  package static func write(
    _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, toAbsoluteOffset offset: UInt64
  ) throws(SystemCallError) {
    var done = 0
    while done < bytes.count {
      let position = off_t(truncatingIfNeeded: offset &+ UInt64(done))
      done += try retryingInterrupts("pwrite") {
        pwrite(descriptor, bytes.baseAddress.map { $0 + done }, bytes.count - done, position)
      }
    }
  }

  /// Writes all of `bytes` with `write(2)`, looping on short writes.
  package static func write(_ descriptor: Int32, _ bytes: ArraySlice<UInt8>) throws(SystemCallError) {
    try bytes.withUnsafeBytes { raw in Result { () throws(SystemCallError) in try write(descriptor, raw) } }.get()
  }

  /// Writes all of `bytes` at `offset` with `pwrite(2)`, looping on short writes.
  package static func write(
    _ descriptor: Int32, _ bytes: ArraySlice<UInt8>, toAbsoluteOffset offset: UInt64
  ) throws(SystemCallError) {
    try bytes.withUnsafeBytes { raw in
      Result { () throws(SystemCallError) in try write(descriptor, raw, toAbsoluteOffset: offset) }
    }.get()
  }

  /// Fills the first `count` bytes of `buffer` from `offset` with `pread(2)`; returns the
  /// count read, smaller than `count` only at end of file.
  package static func read(
    _ descriptor: Int32, into buffer: inout [UInt8], count: Int, fromAbsoluteOffset offset: UInt64
  ) throws(SystemCallError) -> Int {
    let limit = min(count, buffer.count)
    return try buffer.withUnsafeMutableBytes { raw in
      Result { () throws(SystemCallError) in
        try read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<limit]), fromAbsoluteOffset: offset)
      }
    }.get()
  }

  /// One `read(2)` into the start of `buffer`; returns the count (0 at end of file).
  package static func read(_ descriptor: Int32, into buffer: inout [UInt8]) throws(SystemCallError) -> Int {
    try buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemCallError) in try read(descriptor, into: raw) } }
      .get()
  }

  /// Moves the file offset to `offset` from the start (`lseek(2)`).
  package static func seek(_ descriptor: Int32, to offset: UInt64) throws(SystemCallError) {
    _ = try retryingInterrupts("lseek") { lseek(descriptor, off_t(truncatingIfNeeded: offset), SEEK_SET) }
  }

  /// Flushes the file to stable storage (`fsync(2)`).
  package static func sync(_ descriptor: Int32) throws(SystemCallError) {
    _ = try retryingInterrupts("fsync") { fsync(descriptor) }
  }

  /// Sets the permission bits (`fchmod(2)`).
  package static func setPermissions(_ descriptor: Int32, _ mode: mode_t) throws(SystemCallError) {
    _ = try retryingInterrupts("fchmod") { fchmod(descriptor, mode) }
  }

  /// Clears `O_NONBLOCK` on `descriptor` (`fcntl(2)` `F_GETFL`/`F_SETFL`), for a file opened
  /// non-blocking only so that opening a FIFO could not wait for a writer.
  package static func clearNonBlocking(_ descriptor: Int32) throws(SystemCallError) {
    let flags = try retryingInterrupts("fcntl") { fcntl(descriptor, F_GETFL) }
    if flags & O_NONBLOCK == 0 { return }
    _ = try retryingInterrupts("fcntl") { fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) }
  }

  // MARK: Names

  /// Renames `from` to `to`, replacing `to` (`rename(2)`).
  package static func rename(_ from: String, to: String) throws(SystemCallError) {
    _ = try retryingInterrupts("rename") { libcRename(from, to) }
  }

  /// Creates the hard link `to` for `from`; fails with `EEXIST` when `to` exists (`link(2)`).
  package static func link(_ from: String, to: String) throws(SystemCallError) {
    _ = try retryingInterrupts("link") { libcLink(from, to) }
  }

  /// Removes the name `path` (`unlink(2)`).
  package static func unlink(_ path: String) throws(SystemCallError) {
    _ = try retryingInterrupts("unlink") { libcUnlink(path) }
  }

  /// Creates the directory `path` (`mkdir(2)`).
  package static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(SystemCallError) {
    _ = try retryingInterrupts("mkdir") { mkdir(path, mode) }
  }

  /// Whether `path` exists (`access(2)` with `F_OK`); any failure counts as absent.
  package static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

  /// Whether `path` is readable (`access(2)` with `R_OK`).
  package static func isReadable(_ path: String) -> Bool { access(path, R_OK) == 0 }
}

// The C functions under names that do not clash with the wrappers above.
@inline(__always) private func libcOpen(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t) -> Int32 {
  open(path, flags, mode)
}
@inline(__always) private func libcClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
@inline(__always) private func libcRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
  read(descriptor, buffer, count)
}
@inline(__always) private func libcWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
  write(descriptor, buffer, count)
}
@inline(__always) private func libcRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
@inline(__always) private func libcLink(_ from: String, _ to: String) -> Int32 { link(from, to) }
@inline(__always) private func libcUnlink(_ path: String) -> Int32 { unlink(path) }
