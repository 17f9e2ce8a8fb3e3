#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A short name for the file type in `mode` (the `S_IFMT` bits of a `stat`), for messages:
/// "a FIFO", "a directory", "a character device", and so on.
package func fileKindName(_ mode: mode_t) -> String {
  switch mode & S_IFMT {
  case S_IFREG: return "a regular file"
  case S_IFDIR: return "a directory"
  case S_IFIFO: return "a FIFO"
  case S_IFSOCK: return "a socket"
  case S_IFCHR: return "a character device"
  case S_IFBLK: return "a block device"
  case S_IFLNK: return "a symbolic link"
  default: return "an unknown kind of file"
  }
}
