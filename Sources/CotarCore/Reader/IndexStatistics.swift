/// Occupancy and probe-distance figures of an index (what `cotar info` prints).
public struct IndexStatistics: Hashable, Sendable {
  /// Slots in the table.
  public var slots: Int
  /// Filled slots (indexed paths).
  public var entries: Int
  /// Longest distance from a record's home slot to its slot.
  public var longestProbe: Int
  /// Mean distance from home slot over filled slots.
  public var meanProbe: Double
  /// Total index bytes (header, slots, footer).
  public var indexBytes: UInt64

  /// Filled slots divided by slots (0 for an empty table).
  public var loadFactor: Double { slots == 0 ? 0 : Double(entries) / Double(slots) }

  /// The packing (percent) the table was built with, recovered from its size (SPEC §7): of
  /// the whole percentages `p` with `ceil(entries × (1 + p/100)) == slots`, 25 (the default)
  /// if it is one, else the smallest multiple of 5 (the automatic steps), else the smallest;
  /// when no whole percentage gives this slot count, `(slots / entries − 1) × 100`. `nil` for
  /// a table without entries. (A small table fits many packings: 1 entry in 2 slots is
  /// anything from 1 to 100 %.)
  public var packing: Double? {
    guard entries > 0, slots >= entries else { return nil }
    let estimate = (Double(slots) / Double(entries) - 1) * 100
    // Every packing the builder can reach (automatic packing stops at 1000), else the
    // neighbourhood of an explicit larger one.
    let candidates = estimate <= 1100 ? 0...1100 : (Int(estimate) - 2)...(Int(estimate) + 2)
    let matching = candidates.filter { candidate in
      (Double(entries) * (1 + Double(candidate) / 100)).rounded(.up) == Double(slots)
    }
    let chosen = matching.contains(25) ? 25 : matching.first { $0.isMultiple(of: 5) } ?? matching.first
    return chosen.map(Double.init) ?? estimate
  }
}

extension CotarIndex {
  /// Computes ``IndexStatistics`` by reading the whole table once, in bounded memory.
  ///
  /// - Throws: `CotarError` `.corruptIndex` when header and footer differ, or as
  ///   ``RangeSource/read(_:)``.
  public func statistics() async throws -> IndexStatistics {
    let slots = slotCount
    var entries = 0
    var longest: UInt64 = 0
    var total: UInt64 = 0
    try await forEachSlotChunk { firstSlot, bytes in
      bytes.withUnsafeBytes { raw in
        for index in 0..<(raw.count / CotarFormat.recordSize) {
          let hash = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * CotarFormat.recordSize, as: UInt64.self))
          guard hash != 0 else { continue }
          let position = firstSlot + UInt64(index)
          let distance = (position + slots - hash % slots) % slots
          entries += 1
          longest = max(longest, distance)
          total += distance
        }
      }
    }
    return IndexStatistics(
      slots: Int(slots), entries: entries, longestProbe: Int(longest),
      meanProbe: entries == 0 ? 0 : Double(total) / Double(entries), indexBytes: header.indexSize)
  }
}
