/// How a large entry (or any byte range) is streamed: chunk sizes and reads in flight.
///
/// A local source (a ``SynchronousRangeSource`` such as ``FileSource``, possibly wrapped in a
/// ``CountingSource``) is read in ``chunkSize`` pieces, one after another. A remote source is
/// read ahead: up to ``partsInFlight`` range reads at once, the first of ``chunkSize`` bytes
/// and each next one twice as large up to ``partSize``, handed over in order. Memory held by a
/// stream never exceeds ``maximumBufferedBytes(local:)``, whatever the entry size.
public struct StreamOptions: Sendable, Hashable {
  /// Bytes per read of a local source, and of the first read of a remote one.
  public var chunkSize: Int
  /// Largest single read of a remote source (the parts grow from ``chunkSize`` to this).
  public var partSize: Int
  /// Reads of a remote source in flight at once.
  public var partsInFlight: Int

  /// Creates options (defaults: 1 MiB chunks, 8 MiB remote parts, 4 in flight, so a remote
  /// stream holds at most 40 MiB; the HTTP source appends each body straight into its part,
  /// so a part is not held twice). Values are
  /// clamped to at least 1 byte and 1 read; ``partSize`` is at least ``chunkSize``.
  public init(chunkSize: Int = 1 << 20, partSize: Int = 8 << 20, partsInFlight: Int = 4) {
    self.chunkSize = max(1, chunkSize)
    self.partSize = max(self.chunkSize, partSize)
    self.partsInFlight = max(1, partsInFlight)
  }

  /// The most bytes a stream holds at once: the reads in flight plus the chunk the consumer
  /// is holding (`2 × chunkSize` for a local source, `(partsInFlight + 1) × partSize` for a
  /// remote one).
  public func maximumBufferedBytes(local: Bool) -> Int {
    local ? 2 * chunkSize : (partsInFlight + 1) * partSize
  }

  /// The reads that cover `range`, in order: fixed chunks for a local source, growing parts
  /// for a remote one.
  public func plan(_ range: Range<UInt64>, local: Bool) -> [Range<UInt64>] {
    var cursor = PartCursor(range: range, options: self, local: local)
    var pieces: [Range<UInt64>] = []
    while let piece = cursor.next() { pieces.append(piece) }
    return pieces
  }
}

/// The reads of a stream, made one at a time (a plan for a 2 TiB range is never held whole).
struct PartCursor: Sendable {
  private var offset: UInt64
  private let end: UInt64
  private var size: UInt64
  private let largest: UInt64
  private let growing: Bool

  init(range: Range<UInt64>, options: StreamOptions, local: Bool) {
    offset = range.lowerBound
    end = range.upperBound
    size = UInt64(options.chunkSize)
    largest = UInt64(options.partSize)
    growing = !local
  }

  /// Ends the plan: later calls to ``next()`` return `nil`.
  mutating func finish() { offset = end }

  /// The next read, or `nil` when the range is covered.
  mutating func next() -> Range<UInt64>? {
    guard offset < end else { return nil }
    let stop = end - offset > size ? offset + size : end
    defer {
      offset = stop
      if growing { size = min(largest, size * 2) }
    }
    return offset..<stop
  }
}
