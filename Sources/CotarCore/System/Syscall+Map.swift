#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

extension Syscall {
  /// Advice for ``advise(_:length:_:)`` (`madvise(2)`).
  package enum MemoryAdvice: Sendable {
    /// Pages are read in random order: no read-ahead around a fault (`MADV_RANDOM`).
    case random

    var value: Int32 {
      switch self {
      case .random: MADV_RANDOM
      }
    }
  }

  /// The size of a memory page (`sysconf(_SC_PAGESIZE)`), 4096 when unknown.
  package static let pageSize: Int = {
    let size = sysconf(Int32(_SC_PAGESIZE))
    return size > 0 ? size : 4096
  }()

  /// Maps `length` bytes of `descriptor` from `offset` (a multiple of ``pageSize``) read-only
  /// and private (`mmap(2)` with `PROT_READ`, `MAP_PRIVATE`).
  ///
  /// - Throws: `SystemCallError` for `mmap` (`EINVAL` for a bad offset or a zero length,
  ///   `ENOMEM`, `EACCES`, `ENODEV` for a file that cannot be mapped).
  package static func mapReadOnly(_ descriptor: Int32, offset: UInt64, length: Int) throws(SystemCallError)
    -> UnsafeRawPointer
  {
    guard length > 0, offset % UInt64(pageSize) == 0, offset <= UInt64(Int64.max) else {
      throw SystemCallError(call: "mmap", errno: EINVAL)
    }
    while true {
      let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, off_t(offset))
      if let address, address != MAP_FAILED { return UnsafeRawPointer(address) }
      let code = errno
      if code != EINTR { throw SystemCallError(call: "mmap", errno: code) }
    }
  }

  /// Removes a mapping made by ``mapReadOnly(_:offset:length:)`` (`munmap(2)`). Errors are
  /// ignored: the only ones are arguments this package never passes.
  package static func unmap(_ address: UnsafeRawPointer, length: Int) {
    _ = munmap(UnsafeMutableRawPointer(mutating: address), length)
  }

  /// Gives the kernel `advice` about `length` bytes at `address` (page-aligned) (`madvise(2)`).
  ///
  /// - Throws: `SystemCallError` for `madvise` (`EINVAL` when the kernel does not know the
  ///   advice or the range is not mapped).
  package static func advise(_ address: UnsafeRawPointer, length: Int, _ advice: MemoryAdvice) throws(SystemCallError) {
    _ = try retryingInterrupts("madvise") {
      madvise(UnsafeMutableRawPointer(mutating: address), length, advice.value)
    }
  }
}
