import CZlib

/// One call of a zlib streaming function (`inflate` or `deflate`) over `input[consumed...]`
/// into a fresh buffer of `capacity` bytes, shared by ``GzipInflater`` and ``GzipDeflater``.
///
/// The stream's buffer pointers are set for the call only and cleared after it, so no
/// pointer outlives the arrays it points into.
/// - Returns: zlib's status, the input bytes taken, and the output produced (trimmed).
func zlibStep(
  _ stream: UnsafeMutablePointer<z_stream>, input: [UInt8], consumed: Int, capacity: Int,
  _ operation: (UnsafeMutablePointer<z_stream>) -> Int32
) -> (status: Int32, used: Int, output: [UInt8]) {
  var output = [UInt8](repeating: 0, count: capacity)
  let (status, used, produced) = input.withUnsafeBufferPointer { inBuffer in
    output.withUnsafeMutableBufferPointer { outBuffer in
      stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress.map { $0 + consumed })
      stream.pointee.avail_in = UInt32(inBuffer.count - consumed)
      stream.pointee.next_out = outBuffer.baseAddress
      stream.pointee.avail_out = UInt32(outBuffer.count)
      let status = operation(stream)
      let used = inBuffer.count - consumed - Int(stream.pointee.avail_in)
      let produced = outBuffer.count - Int(stream.pointee.avail_out)
      stream.pointee.next_in = nil
      stream.pointee.next_out = nil
      return (status, used, produced)
    }
  }
  output.removeSubrange(produced...)
  return (status, used, output)
}
