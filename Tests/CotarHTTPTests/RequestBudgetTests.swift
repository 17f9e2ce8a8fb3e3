import CotarCore
import CotarHTTP
import CotarTestSupport
import Testing

/// Exact request counts, measured at the server, for cold, warm and hot lookups.
@Suite(.timeLimit(.minutes(5))) struct RequestBudgetTests {
  @Test func combinedLargeIndexColdWarmHot() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    #expect(archive.index.count > 64 << 10)

    let cotar = try await Cotar.open(source)
    let first = archive.files[1234]
    #expect(try await cotar.read(first.path) == first.bytes)
    #expect(server.requestCount == 3)  // suffix (footer + size), window, data
    #expect(server.log.allSatisfy { $0.status == 206 })
    #expect(server.log.first?.range == "bytes=-65536")

    server.resetLog()
    let other = archive.files[4321]
    #expect(try await cotar.read(other.path) == other.bytes)
    #expect(server.requestCount == 2)  // warm: window + data

    server.resetLog()
    #expect(try await cotar.read(other.path) == other.bytes)
    #expect(server.requestCount == 1)  // hot: data only

    server.resetLog()
    #expect(try await cotar.read("no/such/file") == nil)
    #expect(server.requestCount <= 1)  // a window at most, never data
    #expect(source.statistics.requests == 3 + 2 + 1 + server.requestCount)
  }

  @Test func zeroByteEntryNeedsNoDataRequest() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    let empty = try #require(archive.files.first { $0.bytes.isEmpty && $0.path != archive.files[0].path })
    server.resetLog()
    #expect(try await cotar.read(empty.path) == [])
    #expect(server.requestCount <= 1)  // the window only (none when the speculative read had it)
    #expect(server.log.allSatisfy { startOfRange($0.range) ?? 0 >= UInt64(archive.tar.count) })
    server.resetLog()
    #expect(try await cotar.read(empty.path) == [])
    #expect(server.requestCount == 0)
  }

  @Test func combinedSmallIndexNeedsTwoRequests() async throws {
    let archive = try await Fixtures.small.value
    let (server, source) = try await serve("small.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    #expect(archive.index.count < 64 << 10)
    let cotar = try await Cotar.open(source)
    let file = archive.files[17]
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(server.requestCount == 2)
    server.resetLog()
    let other = archive.files[100]
    #expect(try await cotar.read(other.path) == other.bytes)
    #expect(server.requestCount == 1)
    // The data of the last members came with the suffix read (OpeningReadTests).
    server.resetLog()
    let last = archive.files[299]
    #expect(try await cotar.read(last.path) == last.bytes)
    #expect(server.requestCount == 0)
  }

  @Test func sidecarLargeIndexColdWarmHot() async throws {
    let archive = try await Fixtures.large.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("big.tar", archive.tar)
    server.put("big.tar.index", archive.index)
    let tar = try HTTPRangeSource(url: server.url("big.tar"))
    let index = try HTTPRangeSource(url: server.url("big.tar.index"))
    let cotar = try await Cotar.open(tar: tar, index: index)
    let file = archive.files[3999]
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(server.requestCount == 3)  // index prefix, window, data
    #expect(server.log.first?.range == "bytes=0-65535")
    server.resetLog()
    let other = archive.files[42]
    #expect(try await cotar.read(other.path) == other.bytes)
    #expect(server.requestCount == 2)
    server.resetLog()
    #expect(try await cotar.read(other.path) == other.bytes)
    #expect(server.requestCount == 1)
  }

  @Test func sidecarSmallIndexNeedsTwoRequests() async throws {
    let archive = try await Fixtures.small.value
    let (server, cotar) = try await serveSidecar(archive)
    defer { Task { await server.stop() } }
    let file = archive.files[299]
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(server.requestCount == 2)
  }

  @Test func concurrentMissesShareOneWindowRequest() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    server.resetLog()
    let file = archive.files[777]
    try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
      for _ in 0..<12 { group.addTask { try await cotar.read(file.path) } }
      for try await bytes in group { #expect(bytes == file.bytes) }
    }
    let indexStart = UInt64(archive.tar.count)
    let windowRequests = server.log.filter { (startOfRange($0.range) ?? 0) >= indexStart }
    #expect(windowRequests.count == 1)
    #expect(server.requestCount == 1 + 12)
  }

  @Test func speculativeReadSizeIsConfigurable() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source, options: .init(speculativeBytes: 256 << 10))
    let file = archive.files[10]
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(server.requestCount == 2)  // the whole index came with the first read
    #expect(server.log.first?.range == "bytes=-262144")
  }
}

/// The first byte of a `bytes=A-B` header.
func startOfRange(_ header: String?) -> UInt64? {
  guard let header, header.hasPrefix("bytes=") else { return nil }
  return header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false).first.flatMap { UInt64($0) }
}
