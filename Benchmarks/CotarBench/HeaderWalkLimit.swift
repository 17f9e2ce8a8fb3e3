#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The *limit* for an index build: the least work any tar indexer must do.
///
/// It walks the headers sequentially with 1 MiB `pread`s into one reused buffer, parses the
/// octal size field and skips the data. No checksum, no path, no hashing, no index. Headers
/// are 512-byte aligned and the buffer is a multiple of 512, so a header never straddles
/// two reads. Data larger than what is left of the buffer is skipped by moving the offset.
enum HeaderWalkLimit {
  /// Counts the members of the tar at `path`.
  ///
  /// - Throws: `BenchError` when the file cannot be read or a size field is not octal.
  static func countMembers(path: String) throws -> Int {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw BenchError.system("open", path) }
    defer { close(descriptor) }
    let capacity = 1 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 4096)
    defer { buffer.deallocate() }
    var bufferStart: Int64 = 0
    var bufferLength = 0
    var offset: Int64 = 0
    var members = 0
    while true {
      if offset < bufferStart || offset + 512 > bufferStart + Int64(bufferLength) {
        let n = pread(descriptor, buffer.baseAddress, capacity, off_t(offset))
        guard n >= 0 else { throw BenchError.system("pread", path) }
        guard n >= 512 else { return members }  // end of file
        bufferStart = offset
        bufferLength = n
      }
      let header = Int(offset - bufferStart)
      if buffer[header] == 0 { return members }  // end-of-archive block (empty name)
      var size: Int64 = 0
      for index in (header + 124)..<(header + 136) {
        let byte = buffer[index]
        if byte == 0 || byte == 0x20 { if size == 0 { continue } else { break } }
        guard byte >= 0x30 && byte <= 0x37 else { throw BenchError("bad size field at \(offset) in \(path)") }
        size = size << 3 | Int64(byte - 0x30)
      }
      members += 1
      offset += 512 + (size + 511) & ~511
    }
  }
}
