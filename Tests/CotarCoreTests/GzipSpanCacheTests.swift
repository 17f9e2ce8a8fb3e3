import CotarCore
import CotarTestSupport
import Foundation
import Synchronization
import Testing

/// Reads of a `.tar.gz` that meet in one seek-point span fetch its compressed bytes once
/// (GzipTarSource keeps the spans recent reads began and ended in).
@Suite("Gzip span sharing", .timeLimit(.minutes(5)))
struct GzipSpanCacheTests {
  /// One gzip member (so most seek points are block boundaries with windows) of a tar of
  /// random and text files, its index (64 KiB spacing) and the tar.
  static func archive() throws -> (gz: [UInt8], tar: [UInt8]) {
    var random = SplitMix64(seed: 44)
    let files: [(path: String, bytes: [UInt8])] = (0..<40).map { number in
      let size = 5_000 + Int(random.next() % 40_000)
      let bytes: [UInt8] = (0..<size).map { index in
        number % 2 == 0 ? UInt8(truncatingIfNeeded: random.next()) : UInt8(ascii: "a") + UInt8((index * 5 + number) % 21)
      }
      return ("d/\(number).bin", bytes)
    }
    let tar = TarBytes.make(files)
    return (try gzipMember(tar[...], level: 6), tar)
  }

  /// The tar read back in `parts` bytes at a time (ends inside spans), `inFlight` reads at
  /// once, through an archive source counting what it is asked for. `limit`: the archive's
  /// size plus one byte per read (two reads may both need the byte holding a seek point's
  /// first bit, the last of one span and the first of the next).
  static func readAll(parts: UInt64, inFlight: Int) async throws -> (fetched: CountingSource.Counts, limit: UInt64, points: Int) {
    let (gz, tar) = try archive()
    let built = try await GzipIndexBuilder.build(archive: MemorySource(gz), spacing: 64 << 10)
    let counting = CountingSource(MemorySource(gz))
    let source = try await GzipArchiveIndex.open(archive: counting, index: MemorySource(built.bytes)).tar
    counting.reset()
    let ranges = stride(from: UInt64(0), to: UInt64(tar.count), by: Int(parts)).map { $0..<min($0 + parts, UInt64(tar.count)) }
    var results = [[UInt8]](repeating: [], count: ranges.count)
    try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
      var next = 0
      while next < min(inFlight, ranges.count) {
        let number = next
        group.addTask { (number, try await source.read(ranges[number])) }
        next += 1
      }
      while let (number, bytes) = try await group.next() {
        results[number] = bytes
        if next < ranges.count {
          let number = next
          group.addTask { (number, try await source.read(ranges[number])) }
          next += 1
        }
      }
    }
    let bytes = results.flatMap { $0 }
    #expect(bytes == tar)
    return (counting.counts, UInt64(gz.count + ranges.count), built.points.count)
  }

  @Test("reads one after another that meet in a span fetch it once: the archive is fetched at most once in all")
  func consecutiveReads() async throws {
    let result = try await Self.readAll(parts: 100_000, inFlight: 1)
    #expect(result.points > 10)
    #expect(result.fetched.bytes <= result.limit, "\(result.fetched), at most \(result.limit) bytes")
  }

  @Test("reads in flight together that meet in a span fetch it once (a streamed entry's parts)")
  func concurrentReads() async throws {
    let result = try await Self.readAll(parts: 150_000, inFlight: 4)
    #expect(result.fetched.bytes <= result.limit, "\(result.fetched), at most \(result.limit) bytes")
  }

  @Test("a failed fetch is not kept: the next read of the span fetches it and returns the right bytes")
  func failedFetchIsRetried() async throws {
    let (gz, tar) = try Self.archive()
    let built = try await GzipIndexBuilder.build(archive: MemorySource(gz), spacing: 64 << 10)
    let flaky = FailingOnceSource(base: MemorySource(gz))
    let source = try await GzipArchiveIndex.open(archive: flaky, index: MemorySource(built.bytes)).tar
    let range: Range<UInt64> = 200_000..<300_000
    flaky.failNext()
    let error = await #expect(throws: CotarError.self) { try await source.read(range) }
    #expect(error?.code == .io)
    #expect(try await source.read(range) == Array(tar[200_000..<300_000]))
    #expect(try await source.read(250_000..<350_000) == Array(tar[250_000..<350_000]))
  }
}

/// A source whose next read throws `.io` once after ``failNext()``.
final class FailingOnceSource: RangeSource {
  let base: any RangeSource
  private let failing = Mutex(false)

  init(base: any RangeSource) { self.base = base }

  var identity: String { base.identity }

  func failNext() { failing.withLock { $0 = true } }

  func size() async throws -> UInt64 { try await base.size() }

  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    let fail = failing.withLock { state in
      defer { state = false }
      return state
    }
    if fail { throw CotarError(.io, "injected failure", offset: range.lowerBound) }
    return try await base.read(range)
  }
}
