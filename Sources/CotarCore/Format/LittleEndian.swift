/// Bounds-checked little-endian integer access on byte arrays.
///
/// `get…(at:)` reads at an absolute offset and returns `nil` when the bytes are not there;
/// `set…(at:)` writes in place. All Cotar format integers go through these helpers.
extension Array where Element == UInt8 {
  /// The little-endian `UInt64` at `offset`, or `nil` if fewer than 8 bytes remain.
  @inlinable
  func getUInt64LE(at offset: Int) -> UInt64? {
    guard offset >= 0, offset <= count - 8 else { return nil }
    return withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
  }

  /// The little-endian `UInt32` at `offset`, or `nil` if fewer than 4 bytes remain.
  @inlinable
  func getUInt32LE(at offset: Int) -> UInt32? {
    guard offset >= 0, offset <= count - 4 else { return nil }
    return withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
  }

  /// Writes `value` little-endian at `offset`; the array must already hold those 8 bytes.
  @inlinable
  mutating func setUInt64LE(_ value: UInt64, at offset: Int) {
    precondition(offset >= 0 && offset <= count - 8, "setUInt64LE out of bounds")
    withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self) }
  }

  /// Writes `value` little-endian at `offset`; the array must already hold those 4 bytes.
  @inlinable
  mutating func setUInt32LE(_ value: UInt32, at offset: Int) {
    precondition(offset >= 0 && offset <= count - 4, "setUInt32LE out of bounds")
    withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self) }
  }

  /// Appends `value` little-endian.
  @inlinable
  mutating func appendUInt32LE(_ value: UInt32) {
    Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
  }
}
