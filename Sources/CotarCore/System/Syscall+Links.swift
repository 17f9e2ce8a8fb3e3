#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Links and times relative to directory descriptors (what `cotar extract` needs).
extension Syscall {
  /// Creates the symbolic link `name` in `directory` pointing at `target` (`symlinkat(2)`).
  package static func makeSymbolicLink(target: [UInt8], at directory: Int32, bytes name: [UInt8]) throws(SystemCallError) {
    _ = try retryingInterrupts("symlinkat") {
      withCPath(target) { cTarget in withCPath(name) { symlinkat(cTarget, directory, $0) } ?? -1 } ?? -1
    }
  }

  /// Makes `to` in `toDirectory` a hard link of `from` in `fromDirectory`, not following a
  /// final symbolic link; fails with `EEXIST` when `to` exists (`linkat(2)`).
  package static func link(
    at fromDirectory: Int32, bytes from: [UInt8], to toDirectory: Int32, bytes to: [UInt8]
  ) throws(SystemCallError) {
    _ = try retryingInterrupts("linkat") {
      withCPath(from) { source in withCPath(to) { linkat(fromDirectory, source, toDirectory, $0, 0) } ?? -1 } ?? -1
    }
  }

  /// Sets the access and modification times of `descriptor` to `seconds` since 1970
  /// (`futimens(2)`).
  package static func setModificationTime(_ descriptor: Int32, seconds: Int64) throws(SystemCallError) {
    let time = timespec(tv_sec: Int(seconds), tv_nsec: 0)
    let times = [time, time]
    _ = try retryingInterrupts("futimens") { times.withUnsafeBufferPointer { futimens(descriptor, $0.baseAddress) } }
  }
}

extension Syscall {
  /// Sets the times of `name` in `directory` itself, not following a symbolic link
  /// (`utimensat(2)` with `AT_SYMLINK_NOFOLLOW`).
  package static func setModificationTime(at directory: Int32, bytes name: [UInt8], seconds: Int64) throws(SystemCallError) {
    let time = timespec(tv_sec: Int(seconds), tv_nsec: 0)
    let times = [time, time]
    _ = try retryingInterrupts("utimensat") {
      withCPath(name) { cName in
        times.withUnsafeBufferPointer { utimensat(directory, cName, $0.baseAddress, AT_SYMLINK_NOFOLLOW) }
      } ?? -1
    }
  }
}
