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
}

extension CotarIndex {
  /// Computes ``IndexStatistics`` by reading the whole table once.
  ///
  /// - Throws: as ``RangeSource/read(_:)``.
  public func statistics() async throws -> IndexStatistics {
    let records = try await allRecords()
    let slots = UInt64(records.count)
    var entries = 0
    var longest: UInt64 = 0
    var total: UInt64 = 0
    for (position, record) in records.enumerated() where !record.isEmpty {
      let home = record.hash % slots
      let distance = (UInt64(position) + slots - home) % slots
      entries += 1
      longest = max(longest, distance)
      total += distance
    }
    return IndexStatistics(
      slots: records.count, entries: entries, longestProbe: Int(longest),
      meanProbe: entries == 0 ? 0 : Double(total) / Double(entries), indexBytes: header.indexSize)
  }
}
