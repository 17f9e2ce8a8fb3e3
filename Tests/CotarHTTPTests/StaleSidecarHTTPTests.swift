import CotarCore
import CotarHTTP
import CotarTestSupport
import Foundation
import Testing

/// A remote `.tar` + `.tar.index` pair whose tar was rewritten after indexing: the data
/// request also covers the 512-byte tar header before the entry (no extra request), and a
/// header that does not describe the entry fails with `.staleIndex` (SPEC §8.5).
@Suite("Stale sidecar indexes over HTTP", .timeLimit(.minutes(5)))
struct StaleSidecarHTTPTests {
  /// The bytes of a GNU tar of a.txt, b.txt and c.txt and of its index, and the tar after
  /// `tar --delete a.txt`.
  static func pair() async throws -> (tar: [UInt8], index: [UInt8], deleted: [UInt8]) {
    let directory = try ScratchSpace.directory("stale-sidecar-http")
    defer { try? FileManager.default.removeItem(at: directory) }
    let script = """
      printf 'alpha file\\n' > a.txt && printf 'bravo contents here, longer\\n' > b.txt && printf 'charlie\\n' > c.txt \
      && tar --format=gnu -cf X.tar a.txt b.txt c.txt && cp X.tar fresh.tar && tar --delete -f X.tar a.txt
      """
    let result = try await ProcessRunner.runDetached("/bin/sh", ["-c", script], in: directory.path)
    #expect(result.status == 0, "\(result.stderr)")
    let fresh = [UInt8](try Data(contentsOf: directory.appendingPathComponent("fresh.tar")))
    let built = try await CotarIndexBuilder.build(tar: MemorySource(fresh))
    let deleted = [UInt8](try Data(contentsOf: directory.appendingPathComponent("X.tar")))
    return (fresh, built.index.bytes, deleted)
  }

  /// `tar` and `index` served as X.tar and X.tar.index, opened as a sidecar pair.
  static func open(_ server: RangeServer, tar: [UInt8], index: [UInt8]) async throws -> Cotar {
    server.put("X.tar", tar)
    server.put("X.tar.index", index)
    return try await Cotar.open(
      tar: HTTPRangeSource(url: server.url("X.tar"), configuration: quickConfiguration()),
      index: HTTPRangeSource(url: server.url("X.tar.index"), configuration: quickConfiguration()))
  }

  @Test("a lookup is one data request that starts 512 bytes early (the header), bytes exact")
  func freshPairOneDataRequest() async throws {
    let (tar, index, _) = try await Self.pair()
    try await withRangeServer { server in
      let cotar = try await Self.open(server, tar: tar, index: index)
      server.resetLog()
      #expect(try await cotar.read("b.txt") == Array("bravo contents here, longer\n".utf8))
      #expect(server.requestCount == 1)
      #expect(server.log.first?.range == "bytes=1024-\(1536 + 28 - 1)")
      server.resetLog()
      #expect(try await cotar.read(paths: ["a.txt", "c.txt"]) == [Array("alpha file\n".utf8), Array("charlie\n".utf8)])
      #expect(server.requestCount == 1)  // coalesced, headers included
    }
  }

  @Test("after tar --delete: single, batch and streamed reads fail with .staleIndex naming entry and offset")
  func deletedMemberIsStale() async throws {
    let (_, index, deleted) = try await Self.pair()
    try await withRangeServer { server in
      let cotar = try await Self.open(server, tar: deleted, index: index)
      func expectStale(path: String?, offset: UInt64, _ body: () async throws -> Void) async {
        do {
          try await body()
          Issue.record("no error: wrong bytes were returned")
        } catch let error as CotarError {
          #expect(error.code == .staleIndex, "\(error)")
          if let path { #expect(error.path == path, "\(error)") }
          #expect(error.offset == offset, "\(error)")
          #expect(error.source == server.url("X.tar"), "\(error)")
        } catch {
          Issue.record("unexpected error \(error)")
        }
      }
      server.resetLog()
      await expectStale(path: "b.txt", offset: 1024) { _ = try await cotar.read("b.txt") }
      // One request for the header and data; the ustar size differs, so the bytes before the
      // header are read once to look for a PAX size (there is none).
      #expect(server.requestCount == 2)
      await expectStale(path: "a.txt", offset: 0) { _ = try await cotar.read(paths: ["a.txt", "b.txt"]) }
      await expectStale(path: "c.txt", offset: 2048) { _ = try await cotar.read("c.txt") }
      await expectStale(path: "b.txt", offset: 1024) {
        let chunks = try #require(try await cotar.chunks(of: "b.txt"))
        for try await chunk in chunks { Issue.record("a chunk of \(chunk.count) bytes was delivered") }
      }
    }
  }

  @Test("a PAX size that overrides the ustar size field still reads (one more request, for that member only)")
  func paxSizeOverrideRemote() async throws {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let fixtures = url.appendingPathComponent("Fixtures")
    let tar = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("pax-size-override.tar")))
    let index = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("pax-size-override.tar.index")))
    try await withRangeServer { server in
      let cotar = try await Self.open(server, tar: tar, index: index)
      server.resetLog()
      #expect(try await cotar.read("sized-by-pax.txt") == Array("12345".utf8))
      #expect(server.requestCount == 2)
      server.resetLog()
      #expect(try await cotar.read("before.txt") == Array("abc\n".utf8))
      #expect(server.requestCount == 1)
      #expect(try await cotar.read(paths: ["sized-by-pax.txt", "renamed-by-pax.txt"]) == [Array("12345".utf8), Array("after\n".utf8)])
    }
  }
}
