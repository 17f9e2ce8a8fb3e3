import CotarCore
import CotarHTTP
import CotarServer
import CotarTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `cotar serve` of an archive on another HTTP server: recovery after the object changes,
/// `/health` of a failing upstream, and large entries in few upstream requests.
@Suite("Serving a remote archive", .timeLimit(.minutes(5)))
struct RemoteUpstreamTests {
  /// `files` as a `.tar.co`.
  private static func combined(_ files: [(path: String, bytes: [UInt8])]) async throws -> [UInt8] {
    let tar = TarBytes.make(files)
    return tar + (try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes)
  }

  /// The archive at `url`, reopened from fresh sources when it changes (as `cotar serve` does).
  private static func served(_ url: String) async throws -> ServedArchive {
    let source = try HTTPRangeSource(url: url)
    let opened = try await ServedArchive.open(name: "up.tar.co", tar: source, buildListing: false)
    return opened.reopening {
      let fresh = try source.fresh()
      return try await ServedArchive.open(name: "up.tar.co", tar: fresh, version: fresh.pinnedETag ?? "", buildListing: false)
    }
  }

  @Test("a replaced upstream object is reopened once; /health reports a failing upstream")
  func reopenAndHealth() async throws {
    let upstream = try await RangeServer.start()
    defer { Task { await upstream.stop() } }
    upstream.put("up.tar.co", try await Self.combined([("a.txt", Array("version one\n".utf8)), ("b.txt", [1, 2, 3])]))
    let app = try TestServer.application([try await Self.served(upstream.url("up.tar.co"))])
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/file/a.txt", method: .get) {
        #expect(String(buffer: $0.body) == "version one\n")
      }
      upstream.put("up.tar.co", try await Self.combined([("a.txt", Array("version two, longer\n".utf8))]))
      try await client.execute(uri: "/v1/file/a.txt", method: .get) {
        #expect($0.status == .ok)
        #expect(String(buffer: $0.body) == "version two, longer\n")
      }
      try await client.execute(uri: "/v1/file/b.txt", method: .get) { #expect($0.status == .notFound) }
      try await client.execute(uri: "/health", method: .get) {
        #expect($0.status == .ok)
        #expect(String(buffer: $0.body).contains(#""status":"ok""#))
      }
      upstream.misbehave { $0.statusForPath["/up.tar.co"] = 403 }
      try await client.execute(uri: "/health", method: .get) {
        #expect($0.status == .serviceUnavailable)
        let body = String(buffer: $0.body)
        #expect(body.contains(#""status":"failing""#))
        #expect(body.contains("HTTP 403"))
      }
    }
    #expect(upstream.log.filter { $0.status == 412 }.count == 1)
  }

  @Test("a large entry streams through in few upstream requests")
  func largeEntry() async throws {
    let big = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 13) }
    let upstream = try await RangeServer.start()
    defer { Task { await upstream.stop() } }
    upstream.put("up.tar.co", try await Self.combined([("big.bin", big), ("small.txt", [9])]))
    let app = try TestServer.application([try await Self.served(upstream.url("up.tar.co"))])
    try await app.test(.live) { client in
      upstream.resetLog()
      try await client.execute(uri: "/v1/file/big.bin", method: .get) { response in
        #expect(response.status == .ok)
        #expect(Array(response.body.readableBytesView) == big)
      }
      // 64 KiB doubling to 1 MiB: 64+128+256+512 KiB, then 1 MiB pieces.
      #expect(upstream.requestCount <= 12, "\(upstream.requestCount) upstream requests")
      #expect(upstream.requestCount >= 8)
    }
  }
}
