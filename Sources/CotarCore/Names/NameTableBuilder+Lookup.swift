#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The builder's hash table from path to record: linear probing over ``NameTableBuilder/slots``.
extension NameTableBuilder {
  /// The slot where probing for `hash` starts (Fibonacci hashing: FNV-1a's low bits alone are
  /// weak on paths that differ in their last bytes).
  @inline(__always)
  private static func home(of hash: UInt64, slotCount: Int) -> Int {
    Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - slotCount.trailingZeroBitCount))
  }

  /// The record whose path is `path` (with FNV-1a 64 `hash`), if any, and the slot that holds
  /// it, or the empty slot where it would go.
  func find(_ path: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (slot: Int, record: Int?) {
    bytes.withUnsafeBufferPointer { arena in
      records.withUnsafeBufferPointer { records in
        slots.withUnsafeBufferPointer { slots in
          let mask = slots.count - 1
          var slot = Self.home(of: hash, slotCount: slots.count)
          while true {
            let stored = slots[slot]
            if stored == 0 { return (slot, nil) }
            let record = records[stored - 1]
            if record.hash == hash, record.pathCount == path.count,
              Self.equal(path, UnsafeBufferPointer(rebasing: arena[record.pathStart..<(record.pathStart + record.pathCount)]))
            {
              return (slot, stored - 1)
            }
            slot = (slot + 1) & mask
          }
        }
      }
    }
  }

  /// Whether two byte runs of the same length are equal.
  @inline(__always)
  private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let left = a.baseAddress, let right = b.baseAddress else { return a.count == b.count }
    return memcmp(left, right, a.count) == 0
  }

  /// Doubles the slot table and places every record again.
  mutating func growSlots() {
    var grown = [Int](repeating: 0, count: slots.count * 2)
    let mask = grown.count - 1
    for (index, record) in records.enumerated() {
      var slot = Self.home(of: record.hash, slotCount: grown.count)
      while grown[slot] != 0 { slot = (slot + 1) & mask }
      grown[slot] = index + 1
    }
    slots = grown
  }
}
