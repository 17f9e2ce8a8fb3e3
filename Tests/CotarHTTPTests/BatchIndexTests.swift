import CotarCore
import CotarHTTP
import CotarTestSupport
import Testing

/// Batches over a remote index: the index is read in a few merged parallel reads, decided
/// per batch, and every answer stays byte-exact.
@Suite(.timeLimit(.minutes(5))) struct BatchIndexTests {
  /// Requests of `log` whose range starts inside the index (at or after `indexStart`).
  private func indexRequests(_ log: [RangeServer.Logged], indexStart: Int) -> Int {
    log.filter { entry in
      guard let range = entry.range, range.hasPrefix("bytes="), !range.hasPrefix("bytes=-") else { return false }
      let first = range.dropFirst(6).split(separator: "-").first.flatMap { Int($0) } ?? -1
      return first >= indexStart
    }.count
  }

  @Test func manyPathsReadTheIndexInAFewMergedReads() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    let picked = stride(from: 0, to: archive.files.count, by: 10).map { archive.files[$0] }
    server.resetLog()
    let results = try await cotar.read(paths: picked.map(\.path) + ["absent/one.txt", "absent/two.txt"])
    for (file, bytes) in zip(picked, results) { #expect(bytes == file.bytes, "\(file.path)") }
    #expect(results.suffix(2).allSatisfy { $0 == nil })
    let indexStart = archive.tar.count
    let batched = indexRequests(server.log, indexStart: indexStart)
    // About 100 KB of slots beyond the speculative tail: a handful of parallel reads.
    #expect(batched >= 1 && batched <= 16, "\(batched) index reads")

    let perPath = try await Cotar.open(try HTTPRangeSource(url: server.url("big.tar.co"), configuration: quickConfiguration()))
    server.resetLog()
    let again = try await perPath.read(paths: picked.map(\.path), options: BatchReadOptions(indexReads: .perPath))
    #expect(again == Array(results.prefix(picked.count)))
    #expect(indexRequests(server.log, indexStart: indexStart) > 4 * batched)
  }

  @Test func everyPathResolvesFromPrefetchedSlots() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    let hashes = archive.files.map { PathHash.fnv1a64($0.path) }
    let slots = try #require(try await cotar.index.prefetchSlots(for: hashes, concurrency: 8))
    #expect(slots.reads >= 1)
    for (file, hash) in zip(archive.files, hashes) {
      guard case .resolved(let entry) = slots.lookup(hash: hash) else {
        Issue.record("\(file.path) needed I/O")
        continue
      }
      #expect(entry?.size == UInt64(file.bytes.count))
    }
    #expect(slots.lookup(hash: PathHash.fnv1a64("absent.txt")) == .resolved(nil))
  }

  @Test func singlePathsAndLocalIndexesUseWindows() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    #expect(try await cotar.index.prefetchSlots(for: [PathHash.fnv1a64(archive.files[0].path)], concurrency: 8) == nil)
    let local = try await Cotar.open(MemorySource(archive.combined))
    let hashes = archive.files.prefix(100).map { PathHash.fnv1a64($0.path) }
    #expect(try await local.index.prefetchSlots(for: hashes, concurrency: 8) == nil)
  }

  @Test func windowsFartherApartThanTheGapAreReadSeparately() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    let sorted = archive.files.filter { !$0.bytes.isEmpty }.sorted { archive.homeSlot(of: $0.path) < archive.homeSlot(of: $1.path) }
    let far = try #require(sorted.first { (500..<1500).contains(archive.homeSlot(of: $0.path)) })
    let pair = [sorted[0], far]
    server.resetLog()
    let apart = try await cotar.read(paths: pair.map(\.path), options: BatchReadOptions(coalesceGap: 1024))
    #expect(apart == pair.map { Optional($0.bytes) })
    #expect(indexRequests(server.log, indexStart: archive.tar.count) == 2)
    let fresh = try await Cotar.open(try HTTPRangeSource(url: server.url("big.tar.co"), configuration: quickConfiguration()))
    server.resetLog()
    let merged = try await fresh.read(paths: pair.map(\.path))
    #expect(merged == apart)
    #expect(indexRequests(server.log, indexStart: archive.tar.count) == 1)
  }
}
