// Shared by every fuzz target (compiled into each target's module; see Fuzz/run.sh).

/// Stops the run with a message libFuzzer reports as a crash, when `condition` is false.
///
/// Used for the invariants each target checks beyond "no crash"; `fatalError` traps, which
/// libFuzzer records as a deadly signal and saves as `crash-…`.
@inline(__always)
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
  if !condition() { fatalError("invariant violated: \(message())") }
}

/// Consumes a fuzz input from the front: small numbers for options, then the rest.
struct FuzzInput {
  private(set) var bytes: ArraySlice<UInt8>

  init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
    bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size))[...] : []
  }

  /// The next byte, or 0 when the input is used up.
  mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }

  /// The next `count` bytes as a little-endian integer (missing bytes read as 0).
  mutating func uint64(_ count: Int = 8) -> UInt64 {
    var value: UInt64 = 0
    for index in 0..<min(count, 8) { value |= UInt64(byte()) << (8 * UInt64(index)) }
    return value
  }

  /// Everything not consumed yet.
  var rest: [UInt8] { Array(bytes) }
}
