import CotarCore
@testable import CotarServer
import CotarTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The event-loop fast path for small entries gives exactly the general path's answers.
@Suite("Fast path for small entries", .timeLimit(.minutes(5)))
struct FastPathTests {
  /// The headers of a response but `Date`, as (name, value) pairs in order.
  static func fields(_ response: TestResponse) -> [String] {
    response.headers.filter { $0.name != .date }.map { "\($0.name.canonicalName): \($0.value)" }
  }

  @Test("Fast answers equal the general path's: status, headers and bytes, for GET and HEAD")
  func sameAnswers() async throws {
    // As `cotar serve` opens a local archive: the index in memory, the file counted.
    let tar = TestFiles.tar()
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    let source = CountingSource(MemorySource(tar + index, identity: "test.tar.co"))
    let archive = try await ServedArchive.open(
      name: "test.tar.co", tar: source, version: "v1", lastModified: TestServer.lastModified,
      options: .init(loadIndexIntoMemory: true))
    let server = try TestServer.server([archive])
    try await server.makeApplication().test(.live) { client in
      for uri in ["/v1/file/a.txt", "/v1/file/dir/b.json", "/v1/file/abs.txt", "/v1/file/sp%20ace.txt", "/v1/file/empty.txt",
        "/v1/file/tiles/0/0/0.pbf.gz", "/v1/test.tar.co/file/dot.txt"]
      {
        for method in [HTTPRequest.Method.get, .head] {
          let before = server.responder.fastAnswers
          let readsBefore = source.counts.reads
          let fast = try await client.execute(uri: uri, method: method) { $0 }
          #expect(server.responder.fastAnswers == before + 1, "\(method) \(uri) took the general path")
          #expect(source.counts.reads == readsBefore + (method == .get && uri != "/v1/file/empty.txt" ? 1 : 0))
          // A non-matching If-None-Match changes nothing in the answer but takes the general path.
          let general = try await client.execute(uri: uri, method: method, headers: [.ifNoneMatch: "\"other\""]) { $0 }
          #expect(server.responder.fastAnswers == before + 1)
          #expect(fast.status == general.status, "\(uri)")
          #expect(Self.fields(fast) == Self.fields(general), "\(method) \(uri)")
          #expect(fast.headers[.date] != nil)
          #expect(Array(fast.body.readableBytesView) == Array(general.body.readableBytesView), "\(uri)")
        }
      }
      // Not for the fast path: large, missing, ranges, queries, compressed fallbacks.
      let before = server.responder.fastAnswers
      try await client.execute(uri: "/v1/file/big.bin", method: .get) { #expect($0.body.readableBytes == TestFiles.big.count) }
      try await client.execute(uri: "/v1/file/nothing.txt", method: .get) { #expect($0.status == .notFound) }
      try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.range: "bytes=0-1"]) {
        #expect($0.status == .partialContent)
      }
      try await client.execute(uri: "/v1/file/a.txt?x=1", method: .get) { #expect($0.status == .ok) }
      try await client.execute(uri: "/v1/file/tiles/0/0/0.pbf", method: .get, headers: [.acceptEncoding: "gzip"]) {
        #expect($0.headers[.contentEncoding] == "gzip")
      }
      #expect(server.responder.fastAnswers == before)
    }
  }

  @Test("Pipelined requests are answered in order when a slow answer comes first")
  func pipelinedOrder() async throws {
    let app = try TestServer.application([try await TestServer.tarCo()])
    try await app.test(.live) { client in
      let port = try #require(client.port)
      // Blocking socket calls run on a Dispatch thread (LoopbackClient), never on the cooperative
      // pool that the in-process server needs.
      let connection = try #require(LoopbackClient(port: port))
      // A streamed 200 KiB entry, then a small one and a missing one, in one write.
      #expect(
        connection.send(
          "GET /v1/file/big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /v1/file/dir/b.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
      let (received, closed) = await connection.readUntilClosed(timeout: .seconds(120))
      #expect(closed)
      let lowered = received.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
      let bigAt = try #require(Self.position(of: Array("content-length: \(TestFiles.big.count)\r\n".utf8), in: lowered))
      let helloAt = try #require(Self.position(of: TestFiles.hello, in: received))
      let jsonAt = try #require(Self.position(of: TestFiles.json, in: received))
      #expect(bigAt < helloAt && helloAt < jsonAt)
      #expect(received.count > TestFiles.big.count)
    }
  }

  @Test("Raw heads over one connection: pipelined, split across reads, then left to the decoder")
  func rawHeadsOnOneConnection() async throws {
    let archive = try await TestServer.tarCo()
    let server = try TestServer.server([archive])
    try await server.makeApplication().test(.live) { client in
      let port = try #require(client.port)
      let connection = try #require(LoopbackClient(port: port))
      let before = server.responder.fastAnswers
      let a = "GET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
      let b = "GET /v1/file/dir/b.json HTTP/1.1\r\nHost: x\r\n\r\n"
      #expect(connection.send(a + b))  // two pipelined fast requests in one segment
      for piece in ["GET /v1/file/a.t", "xt HTTP/1.1\r\nHo", "st: x\r\n\r\n"] {  // one head in three reads
        try await Task.sleep(for: .milliseconds(50))
        #expect(connection.send(piece))
      }
      try await Task.sleep(for: .milliseconds(50))
      // A range (general path) with a fast-eligible request behind it: answered in order.
      #expect(connection.send("GET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-4\r\n\r\n" + b))
      try await Task.sleep(for: .milliseconds(50))
      // A body: the decoder reads the rest of the connection.
      #expect(
        connection.send(
          "GET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            + b.replacingOccurrences(of: "Host: x", with: "Host: x\r\nConnection: close")))
      let (received, closed) = await connection.readUntilClosed(timeout: .seconds(120))
      #expect(closed)
      let responses = try Self.responses(in: received)
      #expect(responses.map(\.status) == [200, 200, 200, 206, 200, 200, 200])
      #expect(responses.map(\.body) == [TestFiles.hello, TestFiles.json, TestFiles.hello, Array(TestFiles.hello[0..<5]), TestFiles.json, TestFiles.hello, TestFiles.json])
      // The first three were answered before decoding; the body turned the fast path off.
      #expect((before + 3...before + 4).contains(server.responder.fastAnswers))
    }
  }

  @Test("HTTP/1.0 requests are answered, then closed, on either path; unusual syntax goes to the decoder")
  func http10AndUnusualSyntax() async throws {
    let app = try TestServer.application([try await TestServer.tarCo()])
    try await app.test(.live) { client in
      let port = try #require(client.port)
      let cases: [(request: String, status: Int, body: [UInt8]?)] = [
        ("GET /v1/file/a.txt HTTP/1.0\r\n\r\nGET /v1/file/dir/b.json HTTP/1.0\r\n\r\n", 200, TestFiles.hello),
        ("GET /v1/file/a.txt HTTP/1.0\r\nRange: bytes=0-4\r\n\r\n", 206, Array(TestFiles.hello[0..<5])),
        ("GET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\n Folded: y\r\nConnection: close\r\n\r\n", 400, nil),
      ]
      for (request, status, body) in cases {
        let connection = try #require(LoopbackClient(port: port))
        #expect(connection.send(request))
        let (received, closed) = await connection.readUntilClosed(timeout: .seconds(120))
        #expect(closed, "\(request)")
        let responses = try Self.responses(in: received)
        #expect(responses.map(\.status) == [status], "\(request)")
        if let body { #expect(responses.first?.body == body) }
      }
    }
  }

  @Test("A 100 KB request target is answered 414 with a short body, on the fast path and after the decoder took over")
  func targetTooLong() async throws {
    let app = try TestServer.application([try await TestServer.tarCo()])
    try await app.test(.live) { client in
      let port = try #require(client.port)
      let long = "/v1/file/" + String(repeating: "a", count: 100_000)
      let medium = "/v1/file/" + String(repeating: "a", count: RawRequestHead.maximumTargetLength)
      // A POST first hands the connection to the decoder: the check there answers.
      let post = "POST /v1/file/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
      let cases: [(request: String, statuses: [Int])] = [
        ("GET \(long) HTTP/1.1\r\nHost: x\r\n\r\n", [414]),
        (post + "GET \(medium) HTTP/1.1\r\nHost: x\r\n\r\n", [405, 414]),
        // At the limit: read by the decoder (a head over the fast path's 8 KiB), an ordinary 404.
        ("GET \(medium.dropLast(medium.utf8.count - RawRequestHead.maximumTargetLength)) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", [404]),
      ]
      for (request, statuses) in cases {
        let connection = try #require(LoopbackClient(port: port))
        #expect(await connection.sendOffThePool(request))
        let (received, closed) = await connection.readUntilClosed(timeout: .seconds(120))
        #expect(closed, "\(request.prefix(60))")
        let responses = try Self.responses(in: received)
        #expect(responses.map(\.status) == statuses, "\(request.prefix(60))")
        if statuses.last == 414 {
          let text = String(decoding: responses.last?.body ?? [], as: UTF8.self)
          #expect(text.contains("longer than"))
        }
      }
    }
  }

  @Test("A HEAD with a 100 KB target gets the 414 head without a body")
  func targetTooLongHead() async throws {
    let app = try TestServer.application([try await TestServer.tarCo()])
    try await app.test(.live) { client in
      let port = try #require(client.port)
      let connection = try #require(LoopbackClient(port: port))
      #expect(await connection.sendOffThePool("HEAD /v1/file/\(String(repeating: "a", count: 100_000)) HTTP/1.1\r\nHost: x\r\n\r\n"))
      let (received, closed) = await connection.readUntilClosed(timeout: .seconds(120))
      #expect(closed)
      let text = String(decoding: received, as: UTF8.self)
      #expect(text.hasPrefix("HTTP/1.1 414 URI Too Long\r\n"), "\(text)")
      #expect(text.hasSuffix("\r\n\r\n"), "\(text)")
    }
  }

  @Test("An HTTP/1.1 request without Host (or with two) is answered 400 on either path; HTTP/1.0 needs none")
  func missingHost() async throws {
    let app = try TestServer.application([try await TestServer.tarCo()])
    try await app.test(.live) { client in
      let port = try #require(client.port)
      let post = "POST /v1/file/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
      let cases: [(request: String, statuses: [Int])] = [
        ("GET /v1/file/a.txt HTTP/1.1\r\n\r\n", [400]),
        ("GET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/file/a.txt HTTP/1.1\r\nUser-Agent: y\r\n\r\n", [200, 400]),
        ("GET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", [400]),
        (post + "GET /v1/file/a.txt HTTP/1.1\r\n\r\n", [405, 400]),
        ("GET /v1/file/a.txt HTTP/1.0\r\n\r\n", [200]),
      ]
      for (request, statuses) in cases {
        let connection = try #require(LoopbackClient(port: port))
        #expect(await connection.sendOffThePool(request))
        let (received, closed) = await connection.readUntilClosed(timeout: .seconds(120))
        #expect(closed, "\(request)")
        let responses = try Self.responses(in: received)
        #expect(responses.map(\.status) == statuses, "\(request)")
        if statuses.last == 400 {
          let text = String(decoding: responses.last?.body ?? [], as: UTF8.self)
          #expect(text.contains("Host header"), "\(request)")
        }
      }
    }
  }

  /// The HTTP/1.1 responses in `bytes`, each framed by its `Content-Length`.
  static func responses(in bytes: [UInt8]) throws -> [(status: Int, body: [UInt8])] {
    var found: [(status: Int, body: [UInt8])] = []
    var rest = bytes[...]
    while !rest.isEmpty {
      let end = try #require(position(of: Array("\r\n\r\n".utf8), in: Array(rest)))
      let head = String(decoding: rest.prefix(end), as: UTF8.self)
      let lines = head.split(separator: "\r\n")
      let status = try #require(lines.first.flatMap { Int($0.split(separator: " ")[1]) })
      let length = lines.dropFirst().compactMap { line -> Int? in
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
        return Int(parts[1].trimmingCharacters(in: .whitespaces))
      }.first ?? 0
      let bodyStart = rest.startIndex + end + 4
      try #require(rest.endIndex - bodyStart >= length)
      found.append((status, Array(rest[bodyStart..<(bodyStart + length)])))
      rest = rest[(bodyStart + length)...]
    }
    return found
  }

  /// Where `needle` first occurs in `haystack`.
  static func position(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
  }
}
