/// The compressed bytes of a remote `.tar.gz`, kept while the seek-point pass reads them, so
/// that the tar scan that follows reads them locally instead of over the network again.
///
/// They go to a temporary file that is unlinked at once (nothing is left behind, even by a
/// killed run) and only when its file system has room for the whole archive plus 256 MiB;
/// a write that fails drops the spool, and the scan then reads the archive again.
final class GzipSpool {
  private var descriptor: Int32
  /// Bytes written so far.
  private(set) var written: UInt64 = 0

  /// Room kept free beside the spooled archive.
  static let headroom: UInt64 = 256 << 20

  /// A spool in `directory` for an archive of `size` bytes, or `nil` when the file cannot
  /// be made or there is not enough room.
  init?(directory: String, size: UInt64) {
    let template = (directory.hasSuffix("/") ? directory : directory + "/") + ".cotar-gzip-spool-XXXXXX"
    guard let made = try? Syscall.makeTemporaryFile(template) else { return nil }
    let fd = made.descriptor
    try? Syscall.unlink(made.path)
    let (needed, overflow) = size.addingReportingOverflow(Self.headroom)
    guard !overflow, let available = try? Syscall.availableBytes(onFileSystemOf: fd), available >= needed else {
      Syscall.close(fd)
      return nil
    }
    descriptor = fd
  }

  deinit { if descriptor >= 0 { Syscall.close(descriptor) } }

  /// Appends the next bytes read; `false` (and the spool is dropped) when the write fails.
  func append(_ bytes: [UInt8]) -> Bool {
    guard descriptor >= 0 else { return false }
    do {
      try Syscall.write(descriptor, bytes[...])
      written += UInt64(bytes.count)
      return true
    } catch {
      Syscall.close(descriptor)
      descriptor = -1
      return false
    }
  }

  /// The spooled bytes as a source named `identity` (the archive's); the spool gives up its
  /// descriptor to it.
  ///
  /// - Throws: `CotarError` `.io` when the file cannot be examined.
  func source(identity: String) throws -> FileSource {
    let fd = descriptor
    descriptor = -1
    return try FileSource(adopting: fd, identity: identity)
  }
}
