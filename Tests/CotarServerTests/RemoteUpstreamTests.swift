import CotarCore
import CotarHTTP
@testable import CotarServer
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

  /// The archive at `url` opened through a source that tries once and waits at most
  /// `timeout` for an answer.
  private static func impatient(_ url: String, timeout: Duration = .seconds(10)) async throws -> ServedArchive {
    let source = try HTTPRangeSource(
      url: url,
      configuration: HTTPRangeSourceConfiguration(requestTimeout: timeout, retry: RetryPolicy(maximumAttempts: 1)))
    return try await ServedArchive.open(name: "up.tar.co", tar: source, buildListing: false)
  }

  @Test("a failing upstream is answered 502, an unavailable one 503 with Retry-After, a slow one 504")
  func gatewayStatuses() async throws {
    // (The listening socket of a RangeServer closes on stop, not its open connections: a
    // refused connection is pinned by ``gatewayMapping()``.)
    let upstream = try await RangeServer.start()
    upstream.put("up.tar.co", try await Self.combined([("a.txt", Array("hello\n".utf8)), ("b.txt", [1, 2, 3]), ("c.txt", [4]), ("pad.bin", [UInt8](repeating: 0, count: 256 << 10)), ("d.txt", [5])]))
    // Long enough for every answer on a loaded machine; the stalled request below waits it out.
    let archive = try await Self.impatient(upstream.url("up.tar.co"), timeout: .seconds(30))
    let app = try TestServer.application([archive])
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/file/a.txt", method: .get) { #expect($0.status == .ok) }
      upstream.misbehave { $0.statusForPath["/up.tar.co"] = 500 }
      try await client.execute(uri: "/v1/file/a.txt", method: .get) {
        #expect($0.status == .badGateway)
        #expect($0.headers[.retryAfter] == nil)
        #expect(String(buffer: $0.body).contains("HTTP 500"), "\(String(buffer: $0.body))")
        #expect(!String(buffer: $0.body).contains("127.0.0.1"))
      }
      upstream.misbehave { $0.statusForPath["/up.tar.co"] = 403 }
      try await client.execute(uri: "/v1/file/a.txt", method: .get) { #expect($0.status == .badGateway) }
      upstream.misbehave {
        $0.statusForPath = [:]
        $0.failNext = 1
      }
      try await client.execute(uri: "/v1/file/a.txt", method: .get) {
        #expect($0.status == .serviceUnavailable)
        #expect($0.headers[.retryAfter] == "5")
      }
      upstream.misbehave { $0.stallNext = 1 }
      try await client.execute(uri: "/v1/file/b.txt", method: .get) {
        #expect($0.status == .gatewayTimeout, "\(String(buffer: $0.body))")
      }
      try await client.execute(uri: "/v1/file/c.txt", method: .get) { #expect($0.status == .ok) }
    }
    await upstream.stop()
  }

  @Test("upstream failures map to gateway statuses; local and internal failures stay 500")
  func gatewayMapping() throws {
    let url = "http://127.0.0.1:9/up.tar.co"
    func mapped(_ code: CotarError.Code, source: String? = url, cause: (any Error)? = nil) -> UpstreamFailure? {
      UpstreamFailure(CotarError(code, "failed", source: source, cause: cause))
    }
    let refused = try #require(mapped(.io, cause: HTTPTransportFailure(.connectionRefused, "connection refused")))
    #expect(refused.status == .serviceUnavailable)
    #expect(refused.retryAfter == UpstreamFailure.retryAfterSeconds)
    #expect(refused.message.contains("connection refused"))
    #expect(mapped(.io, cause: HTTPTransportFailure(.unreachable, "host unreachable"))?.status == .serviceUnavailable)
    #expect(mapped(.io, cause: HTTPTransportFailure(.timeout, "timed out"))?.status == .gatewayTimeout)
    #expect(mapped(.io, cause: HTTPTransportFailure(.connectTimeout, "connection timed out"))?.status == .gatewayTimeout)
    #expect(mapped(.io, cause: HTTPTransportFailure(.connectionLost, "connection closed"))?.status == .badGateway)
    #expect(mapped(.io, cause: HTTPTransportFailure(.tls, "TLS handshake failed"))?.status == .badGateway)
    #expect(mapped(.httpStatus, cause: HTTPStatusFailure(status: 500, reason: "Internal Server Error"))?.status == .badGateway)
    #expect(mapped(.httpStatus, cause: HTTPStatusFailure(status: 403, reason: "Forbidden"))?.status == .badGateway)
    #expect(mapped(.httpStatus, cause: HTTPStatusFailure(status: 429, reason: ""))?.status == .serviceUnavailable)
    #expect(mapped(.notFound, cause: HTTPStatusFailure(status: 404, reason: "Not Found"))?.status == .badGateway)
    #expect(mapped(.rangeNotHonoured)?.status == .badGateway)
    #expect(mapped(.truncated, source: "s3://bucket/up.tar.co")?.status == .badGateway)
    #expect(mapped(.sourceChanged)?.status == .badGateway)
    // A local file, a corrupt index: the server's own failure.
    #expect(mapped(.io, source: "/srv/up.tar.co") == nil)
    #expect(mapped(.truncated, source: "/srv/up.tar.co") == nil)
    #expect(mapped(.corruptIndex) == nil)
    #expect(mapped(.invalidArgument, source: nil) == nil)
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
