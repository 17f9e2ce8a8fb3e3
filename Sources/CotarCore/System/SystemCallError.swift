#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed operating-system call: which call, and the `errno` value it set.
///
/// Cotar never turns a failed system call into text alone: the ``CotarError`` it throws
/// carries this value as its ``CotarError/cause``, so a caller can tell "not found" from
/// "permission denied" with ``CotarError/systemCallError``.
public struct SystemCallError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The C function that failed, such as `open` or `pread`.
  public var call: String
  /// The `errno` value it set.
  public var errno: Int32

  /// Creates the cause for a failed `call`.
  public init(call: String, errno: Int32) {
    self.call = call
    self.errno = errno
  }

  /// Whether the file or directory does not exist (`ENOENT`).
  public var isNotFound: Bool { errno == ENOENT }
  /// Whether access was refused (`EACCES` or `EPERM`).
  public var isPermissionDenied: Bool { errno == EACCES || errno == EPERM }

  /// The C library's text for the error, such as "No such file or directory".
  public var message: String {
    guard let text = strerror(errno) else { return "errno \(errno)" }
    return String(cString: text)
  }

  /// The symbolic name of the error, such as `ENOENT`, or `errno N` for a rare one.
  public var codeName: String { Self.names[errno] ?? "errno \(errno)" }

  /// `call: message (CODE)`, for example `open: No such file or directory (ENOENT)`.
  public var description: String { "\(call): \(message) (\(codeName))" }

  private static let names: [Int32: String] = [
    EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF", EAGAIN: "EAGAIN",
    ENOMEM: "ENOMEM", EACCES: "EACCES", EEXIST: "EEXIST", EXDEV: "EXDEV", ENOTDIR: "ENOTDIR",
    EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", EFBIG: "EFBIG",
    ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS", EPIPE: "EPIPE", ENAMETOOLONG: "ENAMETOOLONG",
    ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP", ENOSYS: "ENOSYS", EOPNOTSUPP: "EOPNOTSUPP", EDQUOT: "EDQUOT",
  ]
}

extension CotarError {
  /// The failed system call behind this error, when there is one.
  public var systemCallError: SystemCallError? { cause as? SystemCallError }
}

extension SystemCallError {
  /// A ``CotarError`` with code `.io` that wraps this failure as its cause.
  package func cotarError(_ message: String, offset: UInt64? = nil, path: String? = nil, source: String? = nil)
    -> CotarError
  {
    CotarError(.io, message, offset: offset, path: path, source: source, cause: self)
  }
}
