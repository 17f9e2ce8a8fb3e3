/// How a batch of lookups reads a remote index: see ``CotarIndex/prefetchSlots(for:concurrency:gapBytes:)``.
public enum BatchIndexReads: Sendable, Hashable {
  /// Decide per batch (the documented rule): merged slot spans for a remote index and two or
  /// more paths, one window per path otherwise.
  case automatic
  /// One window read per path (through the window cache), as single lookups do.
  case perPath
}

/// Slots of an index fetched for a batch of lookups, probed without I/O.
public struct PrefetchedSlots: Sendable {
  /// Spans of consecutive slots, sorted by first slot, not overlapping.
  struct Span: Sendable {
    var firstSlot: UInt64
    var bytes: [UInt8]
    var endSlot: UInt64 { firstSlot + UInt64(bytes.count / CotarFormat.recordSize) }
  }

  let slotCount: UInt64
  let spans: [Span]
  /// Number of range reads the prefetch cost.
  public let reads: Int
  /// Bytes the prefetch read.
  public let bytes: UInt64

  /// The entry for `hash` when the whole probe lies in fetched slots: `.resolved(entry)`
  /// (`nil` entry: absent), else `.needsIO` (the caller falls back to a normal lookup).
  public func lookup(hash: UInt64) -> CotarIndex.InMemoryLookup {
    guard slotCount > 0, hash != 0 else { return .resolved(nil) }
    var slot = hash % slotCount
    var visited: UInt64 = 0
    var spanIndex = index(containing: slot)
    while visited < slotCount {
      guard let current = spanIndex else { return .needsIO }
      let span = spans[current]
      let at = Int(slot - span.firstSlot) * CotarFormat.recordSize
      guard let record = CotarIndexRecord(bytes: span.bytes, at: at) else { return .needsIO }
      if record.hash == hash { return .resolved(record.entry) }
      if record.hash == 0 { return .resolved(nil) }
      visited += 1
      slot += 1
      if slot == slotCount {
        slot = 0
        spanIndex = index(containing: 0)
      } else if slot >= span.endSlot {
        spanIndex = current + 1 < spans.count && spans[current + 1].firstSlot == slot ? current + 1 : nil
      }
    }
    return .resolved(nil)
  }

  /// The span holding `slot` (binary search).
  private func index(containing slot: UInt64) -> Int? {
    var low = 0
    var high = spans.count
    while low < high {
      let middle = (low + high) / 2
      if spans[middle].endSlot <= slot { low = middle + 1 } else { high = middle }
    }
    return low < spans.count && spans[low].firstSlot <= slot ? low : nil
  }
}

extension CotarIndex {
  /// Largest single read of a batch prefetch.
  static let largestPrefetchRead: UInt64 = 1 << 20
  /// Smallest part a merged span is split into for parallel reads.
  static let smallestPrefetchRead: UInt64 = 64 << 10

  /// The slot ranges a batch of lookups would read, merged: the home window of every hash
  /// (``LookupOptions/windowSlots`` slots, split where the table wraps) that is not already
  /// in memory, sorted, and merged when at most `gapBytes` apart. No I/O.
  func batchSlotRanges(for hashes: [UInt64], gapBytes: UInt64) -> [Range<UInt64>] {
    guard slotCount > 0 else { return [] }
    let window = UInt64(lookupOptions.windowSlots)
    var windows: [Range<UInt64>] = []
    windows.reserveCapacity(hashes.count + 1)
    for hash in hashes where hash != 0 {
      let home = hash % slotCount
      let end = home + min(window, slotCount)
      let pieces: [Range<UInt64>] = end <= slotCount ? [home..<end] : [home..<slotCount, 0..<(end - slotCount)]
      for piece in pieces where !(resident?.covers(piece) ?? false) { windows.append(piece) }
    }
    windows.sort { $0.lowerBound < $1.lowerBound }
    let gapSlots = gapBytes / UInt64(CotarFormat.recordSize)
    var merged: [Range<UInt64>] = []
    for piece in windows {
      if let last = merged.last, piece.lowerBound <= last.upperBound + gapSlots {
        merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, piece.upperBound)
      } else {
        merged.append(piece)
      }
    }
    return merged
  }

  /// Reads the slots a batch of lookups needs, in a few large parallel reads, or returns
  /// `nil` when single lookups are the better choice.
  ///
  /// The rule: prefetch only when the index is neither wholly in memory nor local (a
  /// ``SynchronousRangeSource``, where a window read is a cheap `pread`), and the batch has
  /// at least two paths. Then the home windows of all paths are merged when at most
  /// `gapBytes` apart (one round trip costs about as much time as that many bytes), and every
  /// merged span is read in parts of 64 KiB to 1 MiB — split evenly across `concurrency`
  /// parts — all in parallel. With many paths the spans join into the whole table (read in
  /// `concurrency` parallel parts); with few, far-apart paths each window is read alone, as
  /// a single lookup would. Probes that run past a fetched span fall back to a normal lookup.
  ///
  /// - Throws: as ``RangeSource/read(_:)``.
  public func prefetchSlots(for hashes: [UInt64], concurrency: Int, gapBytes: UInt64 = 64 << 10) async throws
    -> PrefetchedSlots?
  {
    let base = (source as? BlockCacheSource)?.base ?? source
    guard hashes.count >= 2, !isResident, !(base is any SynchronousRangeSource) else { return nil }
    let ranges = batchSlotRanges(for: hashes, gapBytes: gapBytes)
    let totalSlots = ranges.reduce(0) { $0 + UInt64($1.count) }
    let recordSize = UInt64(CotarFormat.recordSize)
    let evenPart = (totalSlots * recordSize) / UInt64(max(1, concurrency))
    let partSlots = max(1, min(Self.largestPrefetchRead, max(Self.smallestPrefetchRead, evenPart)) / recordSize)
    var parts: [Range<UInt64>] = []
    for range in ranges {
      var start = range.lowerBound
      while start < range.upperBound {
        let end = min(range.upperBound, start + partSlots)
        parts.append(start..<end)
        start = end
      }
    }
    let slotsStart = baseOffset + UInt64(CotarFormat.headerSize)
    let fetched = try await boundedMap(parts, concurrency: concurrency) { part in
      try await base.read((slotsStart + part.lowerBound * recordSize)..<(slotsStart + part.upperBound * recordSize))
    }
    var spans: [PrefetchedSlots.Span] = []
    for (part, bytes) in zip(parts, fetched) {
      if let last = spans.last, last.endSlot == part.lowerBound {
        spans[spans.count - 1].bytes += bytes
      } else {
        spans.append(PrefetchedSlots.Span(firstSlot: part.lowerBound, bytes: bytes))
      }
    }
    if let resident, resident.slotCount > 0 {
      spans.append(
        PrefetchedSlots.Span(
          firstSlot: resident.firstSlot,
          bytes: resident.bytes(of: resident.firstSlot..<(resident.firstSlot + resident.slotCount))))
      spans.sort { $0.firstSlot < $1.firstSlot }
      spans = Self.removingOverlaps(spans)
    }
    return PrefetchedSlots(
      slotCount: slotCount, spans: spans, reads: parts.count, bytes: totalSlots * recordSize)
  }

  /// `spans` (sorted) with slots held twice cut from the later span, adjacent spans joined.
  private static func removingOverlaps(_ spans: [PrefetchedSlots.Span]) -> [PrefetchedSlots.Span] {
    var result: [PrefetchedSlots.Span] = []
    for var span in spans {
      if let last = result.last, span.firstSlot < last.endSlot {
        let skip = Int(min(last.endSlot, span.endSlot) - span.firstSlot) * CotarFormat.recordSize
        span.bytes = Array(span.bytes[skip...])
        span.firstSlot = last.endSlot
        if span.bytes.isEmpty { continue }
      }
      if let last = result.last, last.endSlot == span.firstSlot {
        result[result.count - 1].bytes += span.bytes
      } else {
        result.append(span)
      }
    }
    return result
  }
}
