import Synchronization

/// The last decoded blocks of one stored name table, shared by every copy of the
/// ``NameTable`` value, so that queries near each other (a `stat`, then the same path with a
/// slash, then its directory prefix) read each block once.
///
/// Holds at most `capacity` blocks; when full, the oldest is dropped.
final class NameTableBlockMemo: Sendable {
  private struct State {
    var blocks: [Int: [NameEntry]] = [:]
    var order: [Int] = []
  }

  /// Blocks kept at most (a block is at most a few hundred KiB decoded).
  let capacity: Int
  private let state = Mutex(State())

  init(capacity: Int = 16) { self.capacity = max(1, capacity) }

  /// The decoded entries of block `index`, if held.
  func block(_ index: Int) -> [NameEntry]? { state.withLock { $0.blocks[index] } }

  /// Keeps the decoded entries of block `index`, dropping the oldest block past the capacity.
  func keep(_ entries: [NameEntry], at index: Int) {
    state.withLock { state in
      guard state.blocks[index] == nil else { return }
      state.blocks[index] = entries
      state.order.append(index)
      if state.order.count > capacity { state.blocks[state.order.removeFirst()] = nil }
    }
  }
}
