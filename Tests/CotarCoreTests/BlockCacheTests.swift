import CotarCore
import CotarTestSupport
import Synchronization
import Testing

/// A source that counts reads and can be slowed down, to observe the cache.
final class SlowSource: RangeSource {
  let bytes: [UInt8]
  let delay: Duration
  private let log = Mutex<[Range<UInt64>]>([])

  init(_ bytes: [UInt8], delay: Duration = .zero) {
    self.bytes = bytes
    self.delay = delay
  }

  var identity: String { "slow" }
  var reads: [Range<UInt64>] { log.withLock { $0 } }
  func size() async throws -> UInt64 { UInt64(bytes.count) }
  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    log.withLock { $0.append(range) }
    if delay > .zero { try await Task.sleep(for: delay) }
    return try await MemorySource(bytes).read(range)
  }
}

@Suite("Block cache and batch reads", .timeLimit(.minutes(5)))
struct BlockCacheTests {
  let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

  @Test("a read straddling two missing blocks costs one read; repeats cost none")
  func straddlingRead() async throws {
    let base = SlowSource(bytes)
    let cached = BlockCacheSource(base, limit: UInt64(bytes.count), blockSize: 4096)
    #expect(try await cached.read(4000..<4200) == Array(bytes[4000..<4200]))
    #expect(base.reads == [0..<8192])
    #expect(try await cached.read(100..<8000) == Array(bytes[100..<8000]))
    #expect(base.reads.count == 1)
    #expect(try await cached.read(99_000..<100_000) == Array(bytes[99_000..<100_000]))
    #expect(base.reads.last == 98_304..<100_000)
  }

  @Test("concurrent misses on one block share one read")
  func singleFlight() async throws {
    let base = SlowSource(bytes, delay: .milliseconds(50))
    let cached = BlockCacheSource(base, limit: UInt64(bytes.count), blockSize: 4096)
    try await withThrowingTaskGroup(of: [UInt8].self) { group in
      for k in 0..<16 { group.addTask { try await cached.read(UInt64(k * 10)..<UInt64(k * 10 + 100)) } }
      for try await _ in group {}
    }
    #expect(base.reads == [0..<4096])
    #expect(await cached.cache.statistics.joins >= 1)
  }

  @Test("the cache stays within its byte bound")
  func bounded() async throws {
    let base = SlowSource(bytes)
    let cache = BlockCache(capacityBytes: 16 << 10)
    let cached = BlockCacheSource(base, limit: UInt64(bytes.count), blockSize: 4096, cache: cache)
    for block in 0..<20 { _ = try await cached.read(UInt64(block * 4096)..<UInt64(block * 4096 + 10)) }
    let stats = await cache.statistics
    #expect(stats.residentBytes <= 16 << 10)
    #expect(stats.evictions > 0)
    _ = try await cached.read(19 * 4096..<(19 * 4096 + 10))
    #expect(base.reads.count == 20)
  }

  @Test("a failed load is not cached")
  func failureNotCached() async throws {
    let base = SlowSource(bytes)
    let cached = BlockCacheSource(base, limit: 200_000, blockSize: 4096)
    await #expect(throws: CotarError.self) { try await cached.read(99_990..<100_010) }
    #expect(try await cached.read(0..<10) == Array(bytes[0..<10]))
  }

  @Test("coalescing joins near neighbours, respects the gap and the size cap")
  func coalescing() {
    let entries = [
      CotarEntry(offset: 5120, size: 100), CotarEntry(offset: 512, size: 10), CotarEntry(offset: 1024, size: 0),
      CotarEntry(offset: 1024 * 1024, size: 5), CotarEntry(offset: 1536, size: 600),
    ]
    let reads = Cotar.coalesce(entries, gap: 4096, maximumBytes: 1 << 20)
    #expect(reads == [CoalescedRead(range: 512..<5220, members: [1, 4, 0]), CoalescedRead(range: 1_048_576..<1_048_581, members: [3])])
    #expect(Cotar.coalesce(entries, gap: 0, maximumBytes: 1 << 20).count == 4)
    #expect(Cotar.coalesce(entries, gap: 4096, maximumBytes: 2000).count == 3)
  }

  @Test("batch read returns every entry in order, nil for absent, with coalesced data reads")
  func batchRead() async throws {
    var tar = TestTar()
    var files: [(String, [UInt8])] = []
    for i in 0..<50 {
      let data = (0..<(i % 7 == 0 ? 0 : 100 + i)).map { UInt8(truncatingIfNeeded: $0 + i) }
      files.append(("b/\(i)", data))
      tar.add(Array("b/\(i)".utf8), data: data)
    }
    let tarBytes = tar.finished
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tarBytes))
    let base = SlowSource(tarBytes + built.index.bytes)
    // Not kept: this archive fits the suffix read, which would serve every entry (OpeningReadTests).
    let cotar = try await Cotar.open(base, options: .init(keepSpeculativeRead: false))
    let before = base.reads.count
    let results = try await cotar.read(paths: files.map(\.0) + ["absent"])
    #expect(results.dropLast().map { $0 ?? [] } == files.map(\.1))
    #expect(results.last == .some(nil))
    #expect(base.reads.count - before == 1)
  }
}
