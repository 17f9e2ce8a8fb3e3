import CotarCore
import CotarHTTP
import CotarTestSupport
import Testing

/// The speculative read of `Cotar.open` is kept (`OpenOptions.keepSpeculativeRead`): reads of
/// the opened archive inside it are answered from memory, counted at the server.
@Suite(.timeLimit(.minutes(5))) struct OpeningReadTests {
  @Test("a .tar.co that the first read holds whole: every entry and the index figures cost no further request")
  func wholeObject() async throws {
    let archive = try await TestArchive.make(count: 20)
    #expect(archive.combined.count < 64 << 10)
    let (server, source) = try await serve("tiny.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    for file in archive.files { #expect(try await cotar.read(file.path) == file.bytes) }
    #expect(try await cotar.index.statistics().entries == 20)
    #expect(try await cotar.read(paths: archive.files.map(\.path)) == archive.files.map { Optional($0.bytes) })
    #expect(server.log.map(\.range) == ["bytes=-65536"])
    #expect(source.statistics.requests == 1)
  }

  @Test("entries inside the suffix read cost nothing; one straddling its start asks only for the bytes before it")
  func entriesInsideTheSuffix() async throws {
    let archive = try await Fixtures.small.value
    let (server, source) = try await serve("small.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    let windowStart = UInt64(archive.combined.count - (64 << 10))
    var inside = 0
    for file in archive.files where !file.bytes.isEmpty {
      let entry = try #require(try await cotar.entry(file.path))
      guard entry.offset >= windowStart else { continue }
      #expect(try await cotar.read(file.path) == file.bytes)
      inside += 1
    }
    #expect(inside > 10)
    #expect(server.requestCount == 1, "\(server.log)")

    // A suffix read that starts inside the last file of 2 bytes or more.
    let crossing = try #require(archive.files.last { $0.bytes.count >= 2 })
    let entry = try #require(try await cotar.entry(crossing.path))
    let start = entry.offset + 1
    server.resetLog()
    let reopened = try await Cotar.open(
      try HTTPRangeSource(url: server.url("small.tar.co"), configuration: quickConfiguration()),
      options: .init(speculativeBytes: archive.combined.count - Int(start)))
    #expect(try await reopened.read(crossing.path) == crossing.bytes)
    #expect(server.log.last?.range == "bytes=\(entry.offset)-\(entry.offset)", "\(server.log)")
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(entry.size) + 3, alignment: 8)
    defer { buffer.deallocate() }
    try await reopened.read(entry, into: buffer)
    #expect(Array(buffer.prefix(crossing.bytes.count)) == crossing.bytes)
    #expect(server.requestCount == 3)
  }

  @Test("keepSpeculativeRead false reads every entry from the source, as before")
  func keepingCanBeTurnedOff() async throws {
    let archive = try await TestArchive.make(count: 20)
    let (server, source) = try await serve("tiny.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source, options: .init(keepSpeculativeRead: false))
    let file = try #require(archive.files.last { !$0.bytes.isEmpty })
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(server.requestCount == 2)
    #expect(!(cotar.data is PrefetchedSource))
  }

  @Test("a small sidecar index read whole at open: its figures need no further read of it")
  func sidecarStatistics() async throws {
    let archive = try await Fixtures.small.value
    let (server, cotar) = try await serveSidecar(archive)
    defer { Task { await server.stop() } }
    #expect(try await cotar.index.statistics().entries == archive.files.count)
    #expect(server.log.map(\.range) == ["bytes=0-65535"])
  }

  @Test("a replaced object is still detected on reads outside the kept bytes")
  func changedObjectOutsideTheWindow() async throws {
    let archive = try await Fixtures.small.value
    let (server, source) = try await serve("small.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    let last = try #require(archive.files.last { !$0.bytes.isEmpty })
    let first = try #require(archive.files.first { !$0.bytes.isEmpty })
    server.put("small.tar.co", archive.combined.reversed())
    // Inside the kept suffix: the bytes of the version that was opened.
    #expect(try await cotar.read(last.path) == last.bytes)
    let error = await cotarError { _ = try await cotar.read(first.path) }
    #expect(error?.code == .sourceChanged)
  }
}
