import CZlib

/// One-shot zlib (RFC 1950) compression of name-table blocks.
enum Deflate {
  /// `bytes` compressed at level 6 (level 9 cost a third of a table build's CPU for 0.5 %
  /// smaller tables; SPEC §12.3).
  ///
  /// - Throws: `CotarError` `.io` when zlib fails (out of memory).
  static func compress(_ bytes: [UInt8]) throws(CotarError) -> [UInt8] {
    var length = compressBound(uLong(bytes.count))
    var output = [UInt8](repeating: 0, count: Int(length))
    let status = output.withUnsafeMutableBufferPointer { out in
      bytes.withUnsafeBufferPointer { input in
        compress2(out.baseAddress, &length, input.baseAddress, uLong(input.count), 6)
      }
    }
    guard status == Z_OK else { throw CotarError(.io, "zlib compress2 failed with status \(status)") }
    output.removeSubrange(Int(length)...)
    return output
  }

  /// Decompresses a zlib stream that must inflate to exactly `expected` bytes.
  ///
  /// - Returns: the bytes, or `nil` when the stream is corrupt or has another length.
  static func decompress(_ bytes: ArraySlice<UInt8>, expected: Int) -> [UInt8]? {
    var output = [UInt8](repeating: 0, count: max(expected, 1))
    var length = uLongf(expected)
    let status = output.withUnsafeMutableBufferPointer { out in
      Array(bytes).withUnsafeBufferPointer { input in
        uncompress(out.baseAddress, &length, input.baseAddress, uLong(input.count))
      }
    }
    guard status == Z_OK, Int(length) == expected else { return nil }
    output.removeSubrange(expected...)
    return output
  }
}
