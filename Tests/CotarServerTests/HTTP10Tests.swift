import CotarCore
import CotarHTTP
@testable import CotarServer
import CotarTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// HTTP/1.0 clients get bodies they can read without chunked coding (RFC 9112 §6.1), an
/// answer that says `Connection: close`, and a closed connection, on the fast path and on
/// the general path, for local and remote archives.
@Suite("HTTP/1.0 clients", .timeLimit(.minutes(5)))
struct HTTP10Tests {
  /// One answer read from a raw connection up to its close.
  struct RawAnswer {
    var statusLine: String
    /// Header lines as (lowercased name, value).
    var fields: [(name: String, value: String)]
    /// Everything after the head.
    var body: [UInt8]
    /// The server closed the connection.
    var closed: Bool

    func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }
  }

  /// Sends `request` on a new connection to `port` and reads until the server closes.
  static func exchange(_ request: String, port: Int) async throws -> RawAnswer {
    let connection = try #require(LoopbackClient(port: port))
    #expect(await connection.sendOffThePool(request))
    let (received, closed) = await connection.readUntilClosed(timeout: .seconds(120))
    let end = try #require(FastPathTests.position(of: Array("\r\n\r\n".utf8), in: received), "\(request)")
    let lines = String(decoding: received[..<end], as: UTF8.self).components(separatedBy: "\r\n")
    let fields = lines.dropFirst().map { line -> (name: String, value: String) in
      let parts = line.split(separator: ":", maxSplits: 1)
      return (parts[0].lowercased(), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
    }
    return RawAnswer(statusLine: lines[0], fields: fields, body: Array(received[(end + 4)...]), closed: closed)
  }

  /// Checks the HTTP/1.0 rules on `answer`: status, no `Transfer-Encoding`, `Connection:
  /// close`, the connection closed, the body exactly `body` (and its `Content-Length`, when
  /// given, agreeing).
  static func expectHTTP10(_ answer: RawAnswer, status: Int, body: [UInt8], _ what: String) {
    #expect(answer.statusLine.hasPrefix("HTTP/1.1 \(status) "), "\(what): \(answer.statusLine)")
    #expect(answer.values("transfer-encoding").isEmpty, "\(what): \(answer.fields)")
    #expect(answer.values("connection") == ["close"], "\(what): \(answer.fields)")
    #expect(answer.closed, "\(what): the connection stayed open")
    #expect(answer.body == body, "\(what): \(String(decoding: answer.body, as: UTF8.self))")
    for length in answer.values("content-length") { #expect(Int(length) == body.count, "\(what)") }
  }

  @Test("Listings, HTML pages, gunzipped entries, ranges and small entries of a local archive: no chunked coding, Connection: close, closed")
  func localArchive() async throws {
    let server = try TestServer.server([try await TestServer.tarCo()])
    try await server.makeApplication().test(.live) { client in
      let port = try #require(client.port)
      // The HTTP/1.1 answers (chunked where they have no length) give the bodies to expect.
      func body11(_ uri: String, _ headers: HTTPFields = [:]) async throws -> [UInt8] {
        try await client.execute(uri: uri, method: .get, headers: headers) { Array($0.body.readableBytesView) }
      }
      let html: HTTPFields = [.accept: "text/html"]
      let listing = try await body11("/v1/list/")
      let recursive = try await body11("/v1/list/?recursive=true&limit=3")
      let page = try await body11("/v1/list/dir/", html)
      let missing = try await body11("/v1/file/nothing.txt")
      #expect(String(decoding: listing, as: UTF8.self).hasPrefix("{"))
      #expect(String(decoding: page, as: UTF8.self).contains("<html"))
      let cases: [(request: String, status: Int, body: [UInt8])] = [
        ("GET /v1/list/ HTTP/1.0\r\n\r\n", 200, listing),
        ("GET /v1/list/?recursive=true&limit=3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, recursive),
        ("GET /v1/list/dir/ HTTP/1.0\r\nAccept: text/html\r\n\r\n", 200, page),
        ("HEAD /v1/list/ HTTP/1.0\r\n\r\n", 200, []),
        // Stored gzipped, decompressed on the fly for a client that does not take gzip.
        ("GET /v1/file/tiles/0/0/0.pbf HTTP/1.0\r\n\r\n", 200, TestFiles.tileText),
        ("HEAD /v1/file/tiles/0/0/0.pbf HTTP/1.0\r\n\r\n", 200, []),
        ("GET /v1/file/a.txt HTTP/1.0\r\nRange: bytes=0-4\r\n\r\n", 206, Array(TestFiles.hello[0..<5])),
        ("GET /v1/file/a.txt HTTP/1.0\r\nRange: bytes=7-\r\nConnection: keep-alive\r\n\r\n", 206, Array(TestFiles.hello[7...])),
        ("GET /v1/file/big.bin HTTP/1.0\r\n\r\n", 200, TestFiles.big),
        ("GET /v1/file/nothing.txt HTTP/1.0\r\n\r\n", 404, missing),
        // Answered before decoding (the fast path) and after it (a query).
        ("GET /v1/file/a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, TestFiles.hello),
        ("GET /v1/file/a.txt?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, TestFiles.hello),
        // A request behind an HTTP/1.0 one on the same connection is not answered.
        ("GET /v1/list/ HTTP/1.0\r\n\r\nGET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200, listing),
      ]
      let fastBefore = server.responder.fastAnswers
      for (request, status, body) in cases {
        Self.expectHTTP10(try await Self.exchange(request, port: port), status: status, body: body, request)
      }
      #expect(server.responder.fastAnswers == fastBefore + 1)
      // An HTTP/1.1 client still gets the listing chunked.
      let answer = try await Self.exchange("GET /v1/list/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
      #expect(answer.values("transfer-encoding") == ["chunked"])
    }
  }

  @Test("A remote archive answers HTTP/1.0 with Connection: close, whole bodies and a closed connection, keep-alive asked or not")
  func remoteArchive() async throws {
    let upstream = try await RangeServer.start()
    defer { Task { await upstream.stop() } }
    let text = Array(String(repeating: "remote tile ", count: 300).utf8)
    let tar = TarBytes.make([("a.txt", Array("hello remote\n".utf8)), ("t.pbf.gz", gzip(text))])
    upstream.put("up.tar.co", tar + (try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes))
    let archive = try await ServedArchive.open(
      name: "up.tar.co", tar: try HTTPRangeSource(url: upstream.url("up.tar.co")), buildListing: false)
    let app = try TestServer.application([archive])
    try await app.test(.live) { client in
      let port = try #require(client.port)
      let cases: [(request: String, status: Int, body: [UInt8])] = [
        ("GET /v1/file/a.txt HTTP/1.0\r\n\r\n", 200, Array("hello remote\n".utf8)),
        ("GET /v1/file/a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, Array("hello remote\n".utf8)),
        ("GET /v1/file/a.txt HTTP/1.0\r\nRange: bytes=6-11\r\n\r\n", 206, Array("remote".utf8)),
        ("GET /v1/file/t.pbf HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, text),
      ]
      for (request, status, body) in cases {
        Self.expectHTTP10(try await Self.exchange(request, port: port), status: status, body: body, request)
      }
    }
    await upstream.stop()
  }
}
