import CotarCore
import CotarServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Routes without sockets", .timeLimit(.minutes(5)))
struct RouterTests {
  /// Runs `body` against the standard `.tar.co` (and the split archive as the second).
  func withApp(
    cors: [String] = [], listing: Bool = true, _ body: @Sendable (any TestClientProtocol) async throws -> Void
  ) async throws {
    let app = try TestServer.application(
      [try await TestServer.tarCo(listing: listing), try await TestServer.split()],
      configuration: TestServer.configuration(cors: cors, listing: listing))
    try await app.test(.router, body)
  }

  @Test("GET and HEAD of an entry: bytes, type, validators")
  func getEntry() async throws {
    try await withApp { client in
      let etag = try await client.execute(uri: "/v1/file/a.txt", method: .get) { response in
        #expect(response.status == .ok)
        #expect(Array(response.body.readableBytesView) == TestFiles.hello)
        #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
        #expect(response.headers[.acceptRanges] == "bytes")
        #expect(response.headers[.contentLength] == String(TestFiles.hello.count))
        #expect(response.headers[.lastModified] == "Tue, 14 Nov 2023 22:13:20 GMT")
        #expect(response.headers[.cacheControl] == "public, max-age=60")
        let etag = try #require(response.headers[.eTag])
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && !etag.hasPrefix("W/"))
        return etag
      }
      try await client.execute(uri: "/v1/file/a.txt", method: .head) { response in
        #expect(response.status == .ok)
        #expect(response.body.readableBytes == 0)
        #expect(response.headers[.contentLength] == String(TestFiles.hello.count))
        #expect(response.headers[.eTag] == etag)
      }
      try await client.execute(uri: "/v1/file/dir/sub/c.txt", method: .get) { response in
        #expect(response.headers[.eTag] != etag)  // same bytes, different entry
      }
      try await client.execute(uri: "/v1/file/dir/b.json", method: .get) { response in
        #expect(response.headers[.contentType] == "application/json")
        #expect(Array(response.body.readableBytesView) == TestFiles.json)
      }
      try await client.execute(uri: "/v1/file/empty.txt", method: .get) { response in
        #expect(response.status == .ok)
        #expect(response.body.readableBytes == 0)
      }
    }
  }

  @Test("Large entries are streamed byte-exact")
  func bigEntry() async throws {
    try await withApp { client in
      try await client.execute(uri: "/v1/file/big.bin", method: .get) { response in
        #expect(response.status == .ok)
        #expect(Array(response.body.readableBytesView) == TestFiles.big)
      }
      try await client.execute(uri: "/v1/file/big.bin", method: .get, headers: [.range: "bytes=70000-140000"]) { response in
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentRange] == "bytes 70000-140000/\(TestFiles.big.count)")
        #expect(Array(response.body.readableBytesView) == Array(TestFiles.big[70000...140000]))
      }
    }
  }

  @Test("Paths: leading-slash fallback, percent-escapes, non-UTF-8 names")
  func pathForms() async throws {
    try await withApp { client in
      try await client.execute(uri: "/v1/file/abs.txt", method: .get) { response in
        #expect(Array(response.body.readableBytesView) == TestFiles.absolute)
      }
      try await client.execute(uri: "/v1/file//abs.txt", method: .get) { response in
        #expect(Array(response.body.readableBytesView) == TestFiles.absolute)
      }
      try await client.execute(uri: "/v1/file/dot.txt", method: .get) { response in
        #expect(Array(response.body.readableBytesView) == TestFiles.json)
      }
      try await client.execute(uri: "/v1/file/%2E/dot.txt", method: .get) { response in
        #expect(Array(response.body.readableBytesView) == TestFiles.json)
      }
      try await client.execute(uri: "/v1/file/sp%20ace.txt", method: .get) { response in
        #expect(Array(response.body.readableBytesView) == TestFiles.hello)
      }
      try await client.execute(uri: "/v1/file/odd%FF.bin", method: .get) { response in
        #expect(response.status == .ok)
        #expect(Array(response.body.readableBytesView) == [1, 2, 3])
      }
      try await client.execute(uri: "/v1/file/a.txt?cache=bust", method: .get) { response in
        #expect(response.status == .ok)
      }
    }
  }

  @Test("Byte ranges: a-b, a-, -n, 416, ignored forms")
  func ranges() async throws {
    let size = TestFiles.hello.count
    try await withApp { client in
      let cases: [(String, String, [UInt8])] = [
        ("bytes=0-4", "bytes 0-4/\(size)", Array(TestFiles.hello[0...4])),
        ("bytes=7-", "bytes 7-\(size - 1)/\(size)", Array(TestFiles.hello[7...])),
        ("bytes=-7", "bytes \(size - 7)-\(size - 1)/\(size)", Array(TestFiles.hello.suffix(7))),
        ("bytes=-999", "bytes 0-\(size - 1)/\(size)", TestFiles.hello),
        ("bytes=3-999", "bytes 3-\(size - 1)/\(size)", Array(TestFiles.hello[3...])),
      ]
      for (header, contentRange, expected) in cases {
        try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.range: header]) { response in
          #expect(response.status == .partialContent, "\(header)")
          #expect(response.headers[.contentRange] == contentRange, "\(header)")
          #expect(response.headers[.contentLength] == String(expected.count), "\(header)")
          #expect(Array(response.body.readableBytesView) == expected, "\(header)")
        }
      }
      for header in ["bytes=\(size)-", "bytes=-0", "bytes=100-200"] {
        try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.range: header]) { response in
          #expect(response.status == .rangeNotSatisfiable, "\(header)")
          #expect(response.headers[.contentRange] == "bytes */\(size)", "\(header)")
        }
      }
      for header in ["bytes=0-1,3-4", "bytes=x-y", "lines=1-2"] {
        try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.range: header]) { response in
          #expect(response.status == .ok, "\(header)")
          #expect(Array(response.body.readableBytesView) == TestFiles.hello, "\(header)")
        }
      }
      try await client.execute(uri: "/v1/file/a.txt", method: .head, headers: [.range: "bytes=-5"]) { response in
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentLength] == "5")
        #expect(response.body.readableBytes == 0)
      }
    }
  }

  @Test("ETag and dates: If-None-Match, If-Modified-Since, If-Range")
  func conditional() async throws {
    try await withApp { client in
      let etag = try await client.execute(uri: "/v1/file/a.txt", method: .get) { try #require($0.headers[.eTag]) }
      try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.ifNoneMatch: etag]) { response in
        #expect(response.status == .notModified)
        #expect(response.body.readableBytes == 0)
        #expect(response.headers[.eTag] == etag)
        #expect(response.headers[.cacheControl] == "public, max-age=60")
      }
      try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.ifNoneMatch: "\"other\", W/\(etag)"]) {
        #expect($0.status == .notModified)
      }
      try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.ifNoneMatch: "\"other\""]) {
        #expect($0.status == .ok)
      }
      try await client.execute(
        uri: "/v1/file/a.txt", method: .get, headers: [.ifModifiedSince: "Tue, 14 Nov 2023 22:13:20 GMT"]
      ) { #expect($0.status == .notModified) }
      try await client.execute(
        uri: "/v1/file/a.txt", method: .get, headers: [.ifModifiedSince: "Tue, 14 Nov 2023 22:13:19 GMT"]
      ) { #expect($0.status == .ok) }
      try await client.execute(
        uri: "/v1/file/a.txt", method: .get, headers: [.range: "bytes=0-1", .ifRange: etag]
      ) { #expect($0.status == .partialContent) }
      try await client.execute(
        uri: "/v1/file/a.txt", method: .get, headers: [.range: "bytes=0-1", .ifRange: "\"stale\""]
      ) { response in
        #expect(response.status == .ok)
        #expect(Array(response.body.readableBytesView) == TestFiles.hello)
      }
    }
  }

  @Test(".gz entries as stored (gzip_static); X served from X.gz with Content-Encoding")
  func gzipNegotiation() async throws {
    try await withApp { client in
      // A request for X.gz gets the stored bytes as application/gzip, never a Content-Encoding,
      // so a client saves a real .gz file.
      for acceptEncoding in ["gzip, br", "identity"] {
        try await client.execute(
          uri: "/v1/file/tiles/0/0/0.pbf.gz", method: .get, headers: [.acceptEncoding: acceptEncoding]
        ) { response in
          #expect(response.status == .ok)
          #expect(response.headers[.contentEncoding] == nil)
          #expect(response.headers[.contentType] == "application/gzip")
          #expect(Array(response.body.readableBytesView) == TestFiles.tileGzip)
        }
      }
      // A request for X when only X.gz exists: the gzip bytes with Content-Encoding and X's type.
      let uri = "/v1/file/tiles/0/0/0.pbf"
      let gzipTag = try await client.execute(uri: uri, method: .get, headers: [.acceptEncoding: "gzip, br"]) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentEncoding] == "gzip")
        #expect(response.headers[.contentType] == "application/x-protobuf")
        #expect(response.headers[.vary] == "Accept-Encoding")
        #expect(Array(response.body.readableBytesView) == TestFiles.tileGzip)
        return try #require(response.headers[.eTag])
      }
      try await client.execute(uri: uri, method: .get, headers: [.acceptEncoding: "gzip", .range: "bytes=0-1"]) { response in
        #expect(response.status == .partialContent)
        #expect(Array(response.body.readableBytesView) == [0x1F, 0x8B])
      }
      try await client.execute(uri: uri, method: .get) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentEncoding] == nil)
        #expect(response.headers[.contentType] == "application/x-protobuf")
        #expect(response.headers[.vary] == "Accept-Encoding")
        #expect(response.headers[.eTag] != gzipTag)
        #expect(Array(response.body.readableBytesView) == TestFiles.tileText)
      }
      try await client.execute(uri: uri, method: .get, headers: [.acceptEncoding: "gzip;q=0", .range: "bytes=0-1"]) {
        response in
        #expect(response.status == .ok)  // ranges do not apply to the decompressed form
        #expect(Array(response.body.readableBytesView) == TestFiles.tileText)
      }
      try await client.execute(uri: "/v1/file/fake.gz", method: .get) { response in
        #expect(response.headers[.contentEncoding] == nil)
        #expect(response.headers[.contentType] == "application/gzip")
        #expect(String(buffer: response.body) == "not gzip")
      }
      // fake.gz does not start with the gzip magic, so "fake" is not served from it.
      try await client.execute(uri: "/v1/file/fake", method: .get) { #expect($0.status == .notFound) }
    }
  }

  @Test("CORS: headers on responses and preflight answers")
  func cors() async throws {
    try await withApp(cors: ["https://map.example"]) { client in
      try await client.execute(
        uri: "/v1/file/a.txt", method: .get, headers: [.origin: "https://map.example"]
      ) { response in
        #expect(response.headers[.accessControlAllowOrigin] == "https://map.example")
        let exposed = response.headers[.accessControlExposeHeaders] ?? ""
        #expect(exposed.contains("ETag") && exposed.contains("Content-Range") && exposed.contains("Content-Length"))
      }
      try await client.execute(
        uri: "/v1/file/a.txt", method: .options,
        headers: [.origin: "https://map.example", .accessControlRequestMethod: "GET", .accessControlRequestHeaders: "range"]
      ) { response in
        #expect(response.status == .noContent)
        #expect(response.headers[.accessControlAllowOrigin] == "https://map.example")
        #expect(response.headers[.accessControlAllowMethods]?.contains("GET") == true)
        #expect(response.headers[.accessControlAllowHeaders] == "range")
      }
      try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.origin: "https://evil.example"]) {
        #expect($0.headers[.accessControlAllowOrigin] == nil)
      }
    }
    try await withApp(cors: ["*"]) { client in
      try await client.execute(uri: "/v1/file/nope", method: .get, headers: [.origin: "https://any.example"]) { response in
        #expect(response.status == .notFound)
        #expect(response.headers[.accessControlAllowOrigin] == "*")
      }
    }
  }

  @Test("Errors: 404, 400, 405")
  func errors() async throws {
    try await withApp { client in
      for uri in ["/v1/file/missing.txt", "/nope", "/v1/other.tar/file/a.txt", "/archive/missing", "/v1/list/none"] {
        try await client.execute(uri: uri, method: .get) { #expect($0.status == .notFound, "\(uri)") }
      }
      for uri in ["/v1/file/%zz", "/v1/file/a%00b", "/v1/file/", "/v1/list/%"] {
        try await client.execute(uri: uri, method: .get) { #expect($0.status == .badRequest, "\(uri)") }
      }
      for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
        try await client.execute(uri: "/v1/file/a.txt", method: method) { response in
          #expect(response.status == .methodNotAllowed)
          #expect(response.headers[.allow] == "GET, HEAD, OPTIONS")
        }
      }
      try await client.execute(uri: "/v1/file/../../etc/passwd", method: .get) { #expect($0.status == .notFound) }
    }
  }

  @Test("Listings of the root and sub-directories; disabled with --no-list")
  func listing() async throws {
    try await withApp { client in
      try await client.execute(uri: "/v1/list", method: .get) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json")
        let text = String(buffer: response.body)
        #expect(text.hasPrefix(#"{"files":["#))
        #expect(text.contains(#""/v1/file/a.txt""#))
        #expect(text.contains(#""/v1/file/abs.txt""#))
        #expect(text.contains(#""/v1/list/dir/""#))
        #expect(text.contains(#""/v1/file/odd%FF.bin""#))
        #expect(text.contains(#""/v1/file/sp%20ace.txt""#))
        #expect(text.contains(#""/v1/file/dot.txt""#))
      }
      try await client.execute(uri: "/v1/list/dir/", method: .get) { response in
        #expect(String(buffer: response.body) == #"{"files":["/v1/file/dir/b.json","/v1/list/dir/sub/"]}"#)
      }
      try await client.execute(uri: "/v1/second.tar/list", method: .get) { response in
        #expect(String(buffer: response.body) == #"{"files":["/v1/second.tar/file/a.txt","/v1/second.tar/file/other.txt"]}"#)
      }
    }
    try await withApp(listing: false) { client in
      try await client.execute(uri: "/v1/list", method: .get) { #expect($0.status == .notFound) }
    }
  }

  @Test("Several archives: named routes, raw archive bytes and sidecar, health")
  func archives() async throws {
    let tarCo = try await TestServer.tarCo()
    let whole = try await tarCo.tar.read(0..<tarCo.tarSize)
    try await withApp { client in
      try await client.execute(uri: "/v1/second.tar/file/other.txt", method: .get) {
        #expect(String(buffer: $0.body) == "second archive\n")
      }
      try await client.execute(uri: "/v1/second.tar/file/a.txt", method: .get) {
        #expect(String(buffer: $0.body) == "a from the second archive\n")
      }
      try await client.execute(uri: "/v1/test.tar.co/file/a.txt", method: .get) {
        #expect(Array($0.body.readableBytesView) == TestFiles.hello)
      }
      try await client.execute(uri: "/archive/test.tar.co", method: .get) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.acceptRanges] == "bytes")
        #expect(Array(response.body.readableBytesView) == whole)
      }
      try await client.execute(uri: "/archive/test.tar.co", method: .get, headers: [.range: "bytes=-8"]) { response in
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentRange] == "bytes \(whole.count - 8)-\(whole.count - 1)/\(whole.count)")
        #expect(Array(response.body.readableBytesView) == Array(whole.suffix(8)))
        #expect(Array(response.body.readableBytesView.prefix(3)) == Array("COT".utf8))
      }
      try await client.execute(uri: "/archive/test.tar.co", method: .head) { response in
        #expect(response.headers[.contentLength] == String(whole.count))
      }
      try await client.execute(uri: "/archive/second.tar.index", method: .get, headers: [.range: "bytes=0-2"]) {
        #expect(String(buffer: $0.body) == "COT")
      }
      try await client.execute(uri: "/health", method: .get) { response in
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == #"{"status":"ok","archives":["test.tar.co","second.tar"]}"#)
      }
    }
  }

  @Test("Raw archive bytes are enough for a remote Cotar reader")
  func rawArchiveAsRangeSource() async throws {
    let app = try TestServer.application([try await TestServer.tarCo()])
    try await app.test(.router) { client in
      let bytes = try await client.execute(uri: "/archive/test.tar.co", method: .get) { Array($0.body.readableBytesView) }
      let cotar = try await Cotar.open(MemorySource(bytes))
      #expect(try await cotar.read("big.bin") == TestFiles.big)
    }
  }

  @Test("I/O per request: one read for a small entry, none for 304 or HEAD")
  func readCounts() async throws {
    let tar = TestFiles.tar()
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    let counting = CountingSource(MemorySource(tar + index, identity: "counted.tar.co"))
    let archive = try await ServedArchive.open(name: "counted.tar.co", tar: counting, buildListing: false)
    let app = try TestServer.application([archive])
    try await app.test(.router) { client in
      counting.reset()
      let etag = try await client.execute(uri: "/v1/file/a.txt", method: .get) { try #require($0.headers[.eTag]) }
      #expect(counting.counts.reads == 1)
      #expect(counting.counts.bytes == UInt64(TestFiles.hello.count))
      counting.reset()
      try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.ifNoneMatch: etag]) {
        #expect($0.status == .notModified)
      }
      try await client.execute(uri: "/v1/file/big.bin", method: .head) { #expect($0.status == .ok) }
      #expect(counting.counts.reads == 0)
      try await client.execute(uri: "/v1/file/big.bin", method: .get, headers: [.range: "bytes=-10"]) {
        #expect($0.status == .partialContent)
      }
      #expect(counting.counts.bytes == 10)
    }
  }

  @Test("Duplicate or reserved archive names are refused")
  func names() async throws {
    let one = try await TestServer.tarCo()
    #expect(throws: CotarError.self) { try TestServer.application([one, one]) }
    await #expect(throws: CotarError.self) { try await TestServer.tarCo(name: "list") }
  }
}
