import Synchronization

/// The compressed bytes of a few seek-point spans that recent reads of a ``GzipTarSource``
/// began or ended in, so the next read that begins or ends in the same span (the next part of
/// a streamed entry, the next batch of an extraction, a coalesced read split at its size
/// limit) does not fetch it again. A span is registered while its read is still in flight:
/// a concurrent read of the same span waits for those bytes instead of requesting them too.
///
/// Bounded: at most ``maximumSpans`` spans and ``maximumBytes`` bytes; a span larger than
/// half of that is never kept, and the spans at the lowest offsets go first (reads that
/// share spans go forward through the archive).
final class GzipSpanCache: Sendable {
  /// Spans kept at most.
  static let maximumSpans = 8
  /// Compressed bytes kept at most.
  static let maximumBytes = 8 << 20

  /// One span's compressed bytes, fetched or still being fetched.
  final class Slot: Sendable {
    /// The span's compressed bytes in the archive.
    let range: Range<UInt64>
    private let state = Mutex(State.pending([]))

    private enum State {
      case pending([CheckedContinuation<[UInt8]?, Never>])
      case ready([UInt8])
      case failed
    }

    init(range: Range<UInt64>) { self.range = range }

    /// The span's bytes once fetched; `nil` when the read that was fetching them failed.
    func bytes() async -> [UInt8]? {
      await withCheckedContinuation { continuation in
        let now: [UInt8]?? = state.withLock { state in
          switch state {
          case .pending(var waiting):
            waiting.append(continuation)
            state = .pending(waiting)
            return nil
          case .ready(let bytes): return .some(bytes)
          case .failed: return .some(nil)
          }
        }
        if let now { continuation.resume(returning: now) }
      }
    }

    /// Hands `bytes` (or `nil`: the fetch failed) to every waiting and later reader.
    func finish(_ bytes: [UInt8]?) {
      let waiting: [CheckedContinuation<[UInt8]?, Never>] = state.withLock { state in
        guard case .pending(let waiting) = state else { return [] }
        state = bytes.map(State.ready) ?? .failed
        return waiting
      }
      for continuation in waiting { continuation.resume(returning: bytes) }
    }
  }

  private struct Slots {
    var byPoint: [Int: Slot] = [:]
    var bytes = 0
  }

  private let slots = Mutex(Slots())

  init() {}

  /// The slot of the span starting at seek point `point`, or a new pending one the caller
  /// must ``Slot/finish(_:)`` (`isNew`); `nil` with a span too large to keep.
  func slot(point: Int, range: Range<UInt64>) -> (slot: Slot, isNew: Bool)? {
    slots.withLock { slots in
      if let found = slots.byPoint[point] { return (found, false) }
      let size = Int(clamping: range.upperBound - range.lowerBound)
      guard size <= Self.maximumBytes / 2 else { return nil }
      let slot = Slot(range: range)
      slots.byPoint[point] = slot
      slots.bytes += size
      while slots.byPoint.count > Self.maximumSpans || slots.bytes > Self.maximumBytes,
        let lowest = slots.byPoint.keys.min(), let evicted = slots.byPoint.removeValue(forKey: lowest)
      {
        slots.bytes -= Int(clamping: evicted.range.upperBound - evicted.range.lowerBound)
      }
      return (slot, true)
    }
  }

  /// Forgets the slot of `point` when it is `slot` (its fetch failed: the next read tries again).
  func remove(_ slot: Slot, point: Int) {
    slots.withLock { slots in
      guard slots.byPoint[point] === slot else { return }
      slots.byPoint[point] = nil
      slots.bytes -= Int(clamping: slot.range.upperBound - slot.range.lowerBound)
    }
  }
}
