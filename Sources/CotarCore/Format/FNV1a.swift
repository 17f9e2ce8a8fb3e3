/// The path hash of the Cotar format: 64-bit FNV-1a over the path's bytes.
public enum PathHash {
  /// FNV-1a 64 offset basis.
  public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
  /// FNV-1a 64 prime.
  public static let prime: UInt64 = 0x0000_0100_0000_01b3

  /// FNV-1a 64 of the UTF-8 bytes of `path`, with no normalisation.
  @inlinable
  public static func fnv1a64(_ path: String) -> UInt64 {
    // A native string hands out its bytes in place: no copy, no reference-count traffic.
    if let hash = path.utf8.withContiguousStorageIfAvailable({ fnv1a64(bytes: $0) }) { return hash }
    var copy = path
    return copy.withUTF8 { fnv1a64(bytes: $0) }
  }

  /// FNV-1a 64 of raw path bytes (for names that are not valid UTF-8).
  @inlinable
  public static func fnv1a64<Bytes: Sequence>(bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
    var hash = offsetBasis
    for byte in bytes {
      hash ^= UInt64(byte)
      hash &*= prime
    }
    return hash
  }
}
