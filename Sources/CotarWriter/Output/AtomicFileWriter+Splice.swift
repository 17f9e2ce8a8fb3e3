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
    let input: Int32
    do {
      input = try Syscall.open(path, O_RDONLY)
    } catch {
      throw error.cotarError("cannot open for reading", source: path)
    }
    defer { Syscall.close(input) }
    var copied = copyWithKernel(from: input, length: length)
    if copied < length {
      var buffer = [UInt8](repeating: 0, count: 1 << 20)
      while copied < length {
        let want = Int(min(UInt64(buffer.count), length - copied))
        let count: Int
        do {
          count = try Syscall.read(input, into: &buffer, count: want, fromAbsoluteOffset: copied)
        } catch {
          throw error.cotarError("read failed", offset: copied, source: path)
        }
        guard count > 0 else {
          throw CotarError(.truncated, "file ends at \(copied) bytes, \(length) needed", offset: copied, source: path)
        }
        do {
          try Syscall.write(descriptor, buffer[0..<count], toAbsoluteOffset: copied)
        } catch {
          throw error.cotarError("write failed", source: temporaryPath)
        }
        copied += UInt64(count)
      }
    }
    do {
      try Syscall.seek(descriptor, to: length)
    } catch {
      throw error.cotarError("seek failed", source: temporaryPath)
    }
    bytesWritten = length
  }

  /// Copies up to `length` bytes from the start of `input` with `copy_file_range(2)`
  /// (``Syscall/copyFileRange(from:at:to:count:)``); returns how many were copied (0 where
  /// the call is unavailable or refused, so the caller finishes with read and write).
  private func copyWithKernel(from input: Int32, length: UInt64) -> UInt64 {
    var copied: UInt64 = 0
    while copied < length {
      let chunk = Int(min(length - copied, 1 << 30))
      guard let count = try? Syscall.copyFileRange(from: input, at: &copied, to: descriptor, count: chunk), count > 0
      else { break }
    }
    return copied
  }

  /// Flushes the temporary file to stable storage (`fsync`) without moving it into place.
  ///
  /// - Throws: `CotarError` `.io`.
  public func flush() throws {
    do {
      try Syscall.sync(descriptor)
    } catch {
      throw error.cotarError("fsync failed", source: temporaryPath)
    }
  }

  /// Gives the temporary file the owner `user` and group `group` (`fchown`), as far as this
  /// process may: a process that is not root cannot give a file away, and may set only a group
  /// it belongs to. What it may not do is left as it is (the file keeps the caller's owner);
  /// call it before ``setPermissions(_:)``, as a change of owner clears set-ID bits.
  ///
  /// - Throws: `CotarError` `.io` for a failure other than `EPERM`.
  public func setOwner(user: UInt32, group: UInt32) throws {
    for (newUser, newGroup) in [(user, group), (UInt32.max, group)] {
      if fchown(descriptor, uid_t(newUser), gid_t(newGroup)) == 0 { return }
      let code = errno
      guard code == EPERM else {
        throw SystemCallError(call: "fchown", errno: code).cotarError("cannot keep the owner", source: temporaryPath)
      }
    }
  }

  /// Sets the permission bits the file will have once moved into place.
  ///
  /// - Throws: `CotarError` `.io`.
  public func setPermissions(_ mode: UInt32) throws {
    do {
      try Syscall.setPermissions(descriptor, mode_t(mode & 0o7777))
    } catch {
      throw error.cotarError("chmod failed", source: temporaryPath)
    }
  }
}

/// Flushes the directory holding `path`, so a rename into it survives a power loss.
///
/// Errors are ignored: some file systems do not support fsync on directories.
public func syncParentDirectory(of path: String) {
  let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "."
  guard let fd = try? Syscall.open(directory, O_RDONLY) else { return }
  try? Syscall.sync(fd)
  Syscall.close(fd)
}
