import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

extension AtomicFileWriter {
  /// Starts the temporary file with the first `length` bytes of the file at `path`.
  ///
  /// Uses `copy_file_range(2)`, which lets the kernel copy without passing the bytes through
  /// user space and shares the blocks (a reflink) on file systems that support it (Btrfs,
  /// XFS, recent ZFS, NFS 4.2 server-side copy); falls back to read/write when it is not
  /// available. Must be called before any ``write(_:)``.
  /// - Throws: `CotarError` `.invalidArgument` when bytes were already written, `.io` when
  ///   the source cannot be read or is shorter than `length`.
  public func copyPrefix(ofFile path: String, length: UInt64) throws {
    guard bytesWritten == 0 else {
      throw CotarError(.invalidArgument, "copyPrefix must come before any write", source: temporaryPath)
    }
    let input = open(path, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else {
      throw CotarError(.io, "cannot open for reading: \(errnoDescription(errno))", source: path)
    }
    defer { close(input) }
    var copied: UInt64 = 0
    #if os(Linux)
      var inOffset = off_t(0)
      var outOffset = off_t(0)
      while copied < length {
        let chunk = Int(min(length - copied, 1 << 30))
        guard let copyFileRange = CopyFileRange.function else { break }
        let n = copyFileRange(input, &inOffset, descriptor, &outOffset, chunk, 0)
        if n < 0 {
          if errno == EINTR { continue }
          break  // ENOSYS, EXDEV, EINVAL…: finish with read/write below
        }
        if n == 0 { break }
        copied += UInt64(n)
      }
    #endif
    if copied < length {
      var buffer = [UInt8](repeating: 0, count: 1 << 20)
      while copied < length {
        let want = Int(min(UInt64(buffer.count), length - copied))
        let n = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, want, off_t(copied)) }
        if n < 0 {
          if errno == EINTR { continue }
          throw CotarError(.io, "read failed: \(errnoDescription(errno))", offset: copied, source: path)
        }
        guard n > 0 else {
          throw CotarError(.truncated, "file ends at \(copied) bytes, \(length) needed", offset: copied, source: path)
        }
        let written = buffer.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, n, off_t(copied)) }
        guard written == n else {
          throw CotarError(.io, "write failed: \(errnoDescription(errno))", source: temporaryPath)
        }
        copied += UInt64(n)
      }
    }
    guard lseek(descriptor, off_t(length), SEEK_SET) == off_t(length) else {
      throw CotarError(.io, "seek failed: \(errnoDescription(errno))", source: temporaryPath)
    }
    bytesWritten = length
  }

  /// Flushes the temporary file to stable storage (`fsync`) without moving it into place.
  ///
  /// - Throws: `CotarError` `.io`.
  public func flush() throws {
    guard fsync(descriptor) == 0 else {
      throw CotarError(.io, "fsync failed: \(errnoDescription(errno))", source: temporaryPath)
    }
  }

  /// Sets the permission bits the file will have once moved into place.
  ///
  /// - Throws: `CotarError` `.io`.
  public func setPermissions(_ mode: UInt32) throws {
    guard fchmod(descriptor, mode_t(mode & 0o7777)) == 0 else {
      throw CotarError(.io, "chmod failed: \(errnoDescription(errno))", source: temporaryPath)
    }
  }
}

#if os(Linux)
  /// `copy_file_range(2)`, looked up at run time: the Glibc module does not export it
  /// (it is declared only under `_GNU_SOURCE`).
  enum CopyFileRange {
    typealias Function = @convention(c) (
      Int32, UnsafeMutablePointer<off_t>?, Int32, UnsafeMutablePointer<off_t>?, Int, UInt32
    ) -> Int

    static let function: Function? = {
      guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "copy_file_range") else { return nil }
      return unsafeBitCast(symbol, to: Function.self)
    }()
  }
#endif

/// Flushes the directory holding `path`, so a rename into it survives a power loss.
///
/// Errors are ignored: some file systems do not support fsync on directories.
public func syncParentDirectory(of path: String) {
  let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "."
  let fd = open(directory, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { return }
  _ = fsync(fd)
  close(fd)
}
