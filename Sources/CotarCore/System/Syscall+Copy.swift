#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

extension Syscall {
  /// Copies up to `count` bytes from `input` at `inputOffset` to `output` at its file
  /// position with `copy_file_range(2)`, in the kernel (sharing blocks where the file system
  /// can); advances `inputOffset` and the output position by the count returned (0 at the end
  /// of `input`).
  ///
  /// Throws `ENOSYS` where the call does not exist (not Linux, or a C library without it),
  /// and `EINVAL`, `EXDEV`, `EBADF` or `EOPNOTSUPP` where it cannot copy between these two
  /// descriptors (a pipe, another file system, an `O_APPEND` output): callers fall back to
  /// ``sendFile(to:from:at:count:)`` or read and write.
  package static func copyFileRange(
    from input: Int32, at inputOffset: inout UInt64, to output: Int32, count: Int
  ) throws(SystemCallError) -> Int {
    #if os(Linux)
      guard let function = KernelCopy.copyFileRange else { throw SystemCallError(call: "copy_file_range", errno: ENOSYS) }
      var position = off_t(truncatingIfNeeded: inputOffset)
      let copied = try retryingInterrupts("copy_file_range") { function(input, &position, output, nil, count, 0) }
      inputOffset += UInt64(copied)
      return copied
    #else
      throw SystemCallError(call: "copy_file_range", errno: ENOSYS)
    #endif
  }

  /// Copies up to `count` bytes from the file `input` at `inputOffset` to `output` (a file,
  /// a pipe or a socket) at its position with `sendfile(2)`; advances `inputOffset` by the
  /// count returned (0 at the end of `input`).
  ///
  /// Throws `ENOSYS` where the call does not exist, `EINVAL` where it cannot copy to `output`.
  package static func sendFile(
    to output: Int32, from input: Int32, at inputOffset: inout UInt64, count: Int
  ) throws(SystemCallError) -> Int {
    #if os(Linux)
      guard let function = KernelCopy.sendFile else { throw SystemCallError(call: "sendfile", errno: ENOSYS) }
      var position = off_t(truncatingIfNeeded: inputOffset)
      let copied = try retryingInterrupts("sendfile") { function(output, input, &position, count) }
      inputOffset += UInt64(copied)
      return copied
    #else
      throw SystemCallError(call: "sendfile", errno: ENOSYS)
    #endif
  }
}

#if os(Linux)
  /// `copy_file_range(2)` and `sendfile(2)`, looked up at run time: the Glibc module does not
  /// export them (`copy_file_range` is declared only under `_GNU_SOURCE`).
  package enum KernelCopy {
    /// The signature of `copy_file_range(2)`.
    package typealias CopyFileRange = @convention(c) (
      Int32, UnsafeMutablePointer<off_t>?, Int32, UnsafeMutablePointer<off_t>?, Int, UInt32
    ) -> Int
    /// The signature of `sendfile(2)`.
    package typealias SendFile = @convention(c) (Int32, Int32, UnsafeMutablePointer<off_t>?, Int) -> Int

    /// `copy_file_range`, or `nil` when the C library lacks it.
    package static let copyFileRange: CopyFileRange? = symbol("copy_file_range").map {
      unsafeBitCast($0, to: CopyFileRange.self)
    }
    /// `sendfile`, or `nil` when the C library lacks it.
    package static let sendFile: SendFile? = symbol("sendfile").map { unsafeBitCast($0, to: SendFile.self) }

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
      guard let handle = dlopen(nil, RTLD_NOW) else { return nil }
      return dlsym(handle, name)
    }
  }
#endif
