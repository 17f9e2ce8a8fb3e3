import Synchronization

/// A byte-bounded LRU store of fixed-size blocks, shared by any number of
/// ``BlockCacheSource`` decorators, with single-flight loading.
///
/// Concurrent misses on the same block wait for one load instead of each issuing a read. One
/// cache can serve many archives (for example every shard a data loader opens) while keeping
/// one memory bound; entries are keyed by the decorator that loaded them, so two sources never
/// see each other's bytes, even when their identities are equal.
public actor BlockCache {
  struct Key: Hashable, Sendable {
    var owner: UInt64
    var block: UInt64
  }

  private struct Entry {
    var bytes: [UInt8]
    var lastUse: UInt64
  }

  /// Cache figures, for tests and `--stats`.
  public struct Statistics: Hashable, Sendable {
    /// Blocks served from memory.
    public var hits = 0
    /// Blocks that had to be loaded.
    public var misses = 0
    /// Blocks that waited for a load another reader had started.
    public var joins = 0
    /// Blocks dropped to stay within the byte bound.
    public var evictions = 0
    /// Bytes currently held.
    public var residentBytes = 0
  }

  /// The most bytes kept; older blocks are evicted past it.
  public let capacityBytes: Int
  private var entries: [Key: Entry] = [:]
  private var inFlight: [Key: (task: Task<[UInt8], any Error>, start: Int)] = [:]
  private var clock: UInt64 = 0
  private var stats = Statistics()

  /// Creates a cache holding at most `capacityBytes` (default 32 MiB).
  public init(capacityBytes: Int = 32 << 20) {
    self.capacityBytes = max(0, capacityBytes)
  }

  /// The figures so far.
  public var statistics: Statistics { stats }

  /// Drops every block loaded by `owner` (after its source changed, for example).
  public func purge(owner: UInt64) {
    for key in entries.keys where key.owner == owner {
      stats.residentBytes -= entries[key]?.bytes.count ?? 0
      entries[key] = nil
    }
  }

  /// Returns the bytes of blocks `blocks` of `owner`, loading the missing ones with a single
  /// call of `load`, which receives the first and last missing block and must return the bytes
  /// of that whole span (the last block may be short at the end of the source).
  func blocks(
    owner: UInt64, _ blocks: ClosedRange<UInt64>, blockSize: Int,
    load: @escaping @Sendable (ClosedRange<UInt64>) async throws -> [UInt8]
  ) async throws -> [[UInt8]] {
    enum Slot {
      case ready([UInt8])
      case pending(Task<[UInt8], any Error>, Int)
    }
    var slots: [Slot?] = Array(repeating: nil, count: blocks.count)
    var missing: [UInt64] = []
    for (position, block) in blocks.enumerated() {
      let key = Key(owner: owner, block: block)
      if var entry = entries[key] {
        clock += 1
        entry.lastUse = clock
        entries[key] = entry
        stats.hits += 1
        slots[position] = .ready(entry.bytes)
      } else if let flight = inFlight[key] {
        stats.joins += 1
        slots[position] = .pending(flight.task, flight.start)
      } else {
        missing.append(block)
      }
    }
    if let first = missing.first, let last = missing.last {
      let span = first...last
      let task = Task { try await load(span) }
      for block in span {
        let key = Key(owner: owner, block: block)
        guard entries[key] == nil, inFlight[key] == nil else { continue }
        inFlight[key] = (task, Int(block - first) * blockSize)
        stats.misses += 1
      }
      for (position, block) in blocks.enumerated() where slots[position] == nil {
        slots[position] = .pending(task, Int(block - first) * blockSize)
      }
      Task { await self.settle(task: task, owner: owner, span: span, blockSize: blockSize) }
    }
    var result: [[UInt8]] = []
    result.reserveCapacity(slots.count)
    for slot in slots {
      switch slot {
      case .ready(let bytes): result.append(bytes)
      case .pending(let task, let start):
        let bytes = try await task.value
        let end = min(bytes.count, start + blockSize)
        result.append(start < end ? Array(bytes[start..<end]) : [])
      case nil: result.append([])
      }
    }
    return result
  }

  /// Moves the blocks of a finished load from in-flight to the LRU (or forgets them on error).
  private func settle(task: Task<[UInt8], any Error>, owner: UInt64, span: ClosedRange<UInt64>, blockSize: Int) async {
    let outcome = await task.result
    for block in span {
      let key = Key(owner: owner, block: block)
      guard let flight = inFlight[key], flight.task == task else { continue }
      inFlight[key] = nil
      guard case .success(let bytes) = outcome else { continue }
      let start = flight.start
      let end = min(bytes.count, start + blockSize)
      guard start < end else { continue }
      insert(key, Array(bytes[start..<end]))
    }
  }

  private func insert(_ key: Key, _ bytes: [UInt8]) {
    guard bytes.count <= capacityBytes else { return }
    clock += 1
    if let old = entries[key] { stats.residentBytes -= old.bytes.count }
    entries[key] = Entry(bytes: bytes, lastUse: clock)
    stats.residentBytes += bytes.count
    guard stats.residentBytes > capacityBytes else { return }
    // Evict the least recently used blocks down to 7/8 of the bound, so eviction (a sort)
    // runs once per many inserts rather than on every one.
    let target = capacityBytes - capacityBytes / 8
    for (oldKey, entry) in entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
      guard stats.residentBytes > target else { break }
      entries[oldKey] = nil
      stats.residentBytes -= entry.bytes.count
      stats.evictions += 1
    }
  }

  private static let nextOwner = Atomic<UInt64>(1)

  /// A fresh owner identifier for a new decorator.
  nonisolated static func makeOwner() -> UInt64 {
    nextOwner.wrappingAdd(1, ordering: .relaxed).oldValue
  }
}

extension BlockCache: Hashable {
  /// Caches are equal only when they are the same instance.
  public nonisolated static func == (lhs: BlockCache, rhs: BlockCache) -> Bool { lhs === rhs }

  /// Hashes the instance identity.
  public nonisolated func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
