import CZlib
import CotarCore
import Foundation
import CotarServer
import CotarTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("HTTP semantics: preconditions, corrupt records, index files, gzip by content", .timeLimit(.minutes(5)))
struct HTTPSemanticsTests {
  @Test("If-Match and If-Unmodified-Since that fail give 412, on entries and raw archives")
  func preconditions() async throws {
    let app = try TestServer.application([try await TestServer.tarCo()])
    try await app.test(.router) { client in
      for uri in ["/v1/file/a.txt", "/v1/file/big.bin", "/archive/test.tar.co"] {
        let etag = try await client.execute(uri: uri, method: .head) { try #require($0.headers[.eTag]) }
        try await client.execute(uri: uri, method: .get, headers: [.ifMatch: "\"other\""]) {
          #expect($0.status == .preconditionFailed, "\(uri)")
        }
        try await client.execute(uri: uri, method: .get, headers: [.ifMatch: "W/\(etag)"]) {
          #expect($0.status == .preconditionFailed, "a weak tag never matches If-Match: \(uri)")
        }
        try await client.execute(uri: uri, method: .head, headers: [.ifMatch: "\"x\", \(etag)"]) {
          #expect($0.status == .ok, "\(uri)")
        }
        try await client.execute(uri: uri, method: .get, headers: [.ifMatch: "*", .range: "bytes=0-0"]) {
          #expect($0.status == .partialContent, "\(uri)")
        }
        // Last-Modified is 2023-11-14 22:13:20 GMT.
        try await client.execute(uri: uri, method: .get, headers: [.ifUnmodifiedSince: "Mon, 13 Nov 2023 00:00:00 GMT"]) {
          #expect($0.status == .preconditionFailed, "\(uri)")
        }
        try await client.execute(uri: uri, method: .head, headers: [.ifUnmodifiedSince: "Wed, 15 Nov 2023 00:00:00 GMT"]) {
          #expect($0.status == .ok, "\(uri)")
        }
        // If-Match wins over If-Unmodified-Since (RFC 9110 §13.2.2).
        try await client.execute(
          uri: uri, method: .head, headers: [.ifMatch: etag, .ifUnmodifiedSince: "Mon, 13 Nov 2023 00:00:00 GMT"]
        ) { #expect($0.status == .ok, "\(uri)") }
      }
    }
  }

  @Test("A sidecar record claiming 4 GiB gives a whole 500, never a 200 with a length it cannot send")
  func corruptRecord() async throws {
    var builder = TestTar()
    builder.add("a.txt", "hello\n")
    builder.add("b.txt", "world\n")
    let tar = builder.finished
    var index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    let hash = PathHash.fnv1a64("a.txt")
    let hashBytes = (0..<8).map { UInt8(truncatingIfNeeded: hash >> (8 * $0)) }
    let slot = try #require((0...(index.count - 16)).first { Array(index[$0..<($0 + 8)]) == hashBytes })
    for offset in 12..<16 { index[slot + offset] = 0xFF }
    let archive = try await ServedArchive.open(
      name: "bad.tar", tar: MemorySource(tar, identity: "bad.tar"), sidecar: MemorySource(index, identity: "bad.tar.index"))
    let app = try TestServer.application([archive], configuration: TestServer.configuration(accessLog: true))
    try await app.test(.live) { client in
      try await client.execute(uri: "/v1/file/a.txt", method: .get) { response in
        #expect(response.status == .internalServerError)
        #expect(response.headers[.contentLength] != "4294967295")
        #expect(String(buffer: response.body).contains("corrupt"))
      }
      try await client.execute(uri: "/v1/file/a.txt", method: .head) { #expect($0.status == .internalServerError) }
      try await client.execute(uri: "/v1/file/b.txt", method: .get) { response in
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == "world\n")
      }
    }
  }

  static func site() async throws -> ServedArchive {
    var builder = TestTar()
    builder.add("index.html", "<h1>home</h1>")
    builder.add("docs/index.html", "<h1>docs</h1>")
    builder.add("docs/page.css", "body{}")
    builder.add("nodir/readme.txt", "no index here")
    builder.add("tiles/1/2/3.pbf", gzip(TestFiles.tileText))
    builder.add("tiles/plain.pbf", TestFiles.tileText)
    let tar = builder.finished
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    return try await ServedArchive.open(name: "site.tar.co", tar: MemorySource(tar + index, identity: "site.tar.co"))
  }

  @Test("A directory path serves its index file; without the slash it redirects; --index-file '' turns it off")
  func indexFile() async throws {
    let app = try TestServer.application([try await Self.site()])
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/file/docs/", method: .get) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/html; charset=utf-8")
        #expect(String(buffer: response.body) == "<h1>docs</h1>")
      }
      try await client.execute(uri: "/v1/file/docs?x=1", method: .get) { response in
        #expect(response.status == .movedPermanently)
        #expect(response.headers[.location] == "/v1/file/docs/?x=1")
      }
      try await client.execute(uri: "/v1/file/nodir/", method: .get) { #expect($0.status == .notFound) }
      try await client.execute(uri: "/v1/file/docs/page.css", method: .get) { #expect($0.status == .ok) }
    }
    var configuration = TestServer.configuration()
    configuration.indexFile = nil
    try await TestServer.application([try await Self.site()], configuration: configuration).test(.router) { client in
      try await client.execute(uri: "/v1/file/docs/", method: .get) { #expect($0.status == .notFound) }
    }
  }

  @Test("--encoding-from-content: entries stored gzipped get Content-Encoding: gzip, others are untouched")
  func encodingFromContent() async throws {
    var configuration = TestServer.configuration()
    configuration.encodingFromContent = true
    try await TestServer.application([try await Self.site()], configuration: configuration).test(.router) { client in
      try await client.execute(uri: "/v1/file/tiles/1/2/3.pbf", method: .get, headers: [.acceptEncoding: "gzip"]) { response in
        #expect(response.headers[.contentEncoding] == "gzip")
        #expect(response.headers[.contentType] == "application/x-protobuf")
        #expect(Array(response.body.readableBytesView) == gzip(TestFiles.tileText))
      }
      try await client.execute(uri: "/v1/file/tiles/1/2/3.pbf", method: .get) { response in
        #expect(response.headers[.contentEncoding] == nil)
        #expect(Array(response.body.readableBytesView) == TestFiles.tileText)
      }
      try await client.execute(uri: "/v1/file/tiles/plain.pbf", method: .get, headers: [.acceptEncoding: "gzip"]) { response in
        #expect(response.headers[.contentEncoding] == nil)
        #expect(Array(response.body.readableBytesView) == TestFiles.tileText)
      }
    }
    // Off by default: the stored bytes, no Content-Encoding.
    try await TestServer.application([try await Self.site()]).test(.router) { client in
      try await client.execute(uri: "/v1/file/tiles/1/2/3.pbf", method: .get, headers: [.acceptEncoding: "gzip"]) { response in
        #expect(response.headers[.contentEncoding] == nil)
        #expect(Array(response.body.readableBytesView) == gzip(TestFiles.tileText))
      }
    }
  }

  @Test("Listings: strong ETag with 304, gzip when accepted, recursive=true, paging with limit and cursor")
  func listings() async throws {
    let app = try TestServer.application([try await Self.listingArchive()])
    try await app.test(.router) { client in
      let (whole, etag) = try await client.execute(uri: "/v1/list/d/", method: .get) { response in
        (String(buffer: response.body), try #require(response.headers[.eTag]))
      }
      #expect(!etag.hasPrefix("W/"))
      try await client.execute(uri: "/v1/list/d/", method: .get, headers: [.ifNoneMatch: etag]) {
        #expect($0.status == .notModified)
        #expect($0.body.readableBytes == 0)
      }
      // gzip: a different representation with its own tag, the same JSON once inflated.
      try await client.execute(uri: "/v1/list/d/", method: .get, headers: [.acceptEncoding: "gzip"]) { response in
        #expect(response.headers[.contentEncoding] == "gzip")
        #expect(response.headers[.eTag] != etag)
        let compressed = Array(response.body.readableBytesView)
        #expect(Array(compressed.prefix(2)) == [0x1F, 0x8B])
        #expect(String(decoding: inflate(compressed), as: UTF8.self) == whole)
      }
      #expect(whole.contains("/v1/list/d/sub0/") && !whole.contains("/v1/file/d/sub0/f0.txt"))
      // recursive=true lists every file below, no directories.
      let recursive = try await client.execute(uri: "/v1/list/d/?recursive=true", method: .get) { String(buffer: $0.body) }
      #expect(recursive.contains("/v1/file/d/sub0/f0.txt") && !recursive.contains("/v1/list/"))
      #expect(recursive.components(separatedBy: "/v1/file/").count - 1 == 40)
      // Paging: follow "next" until it is absent; the pages add up to the whole listing.
      var uri: String? = "/v1/list/d/?recursive=true&limit=7"
      var files: [String] = []
      var pages = 0
      while let current = uri, pages < 20 {
        let page = try await client.execute(uri: current, method: .get) { String(buffer: $0.body) }
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(page.utf8)) as? [String: Any])
        files += try #require(parsed["files"] as? [String])
        uri = parsed["next"] as? String
        pages += 1
      }
      #expect(pages == 6)
      let all = try #require(try JSONSerialization.jsonObject(with: Data(recursive.utf8)) as? [String: Any])
      #expect(files == all["files"] as? [String])
      try await client.execute(uri: "/v1/list/d/?limit=0", method: .get) { #expect($0.status == .badRequest) }
    }
  }

  /// `l.tar.co`: 40 files under `d/`, ten of them in `d/sub0/`…`d/sub3/`.
  static func listingArchive() async throws -> ServedArchive {
    var builder = TestTar()
    for index in 0..<40 {
      let path = index % 4 == 0 ? "d/sub\(index / 10)/f\(index).txt" : "d/f\(index < 10 ? "0" : "")\(index).txt"
      builder.add(path, "x")
    }
    let tar = builder.finished
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    return try await ServedArchive.open(name: "l.tar.co", tar: MemorySource(tar + index, identity: "l.tar.co"))
  }

  @Test("Listings: recursive takes true/false, 1/0, yes/no, on/off in any case (bare is true); anything else is 400")
  func recursiveSpellings() async throws {
    let app = try TestServer.application([try await Self.listingArchive()])
    try await app.test(.router) { client in
      func fileCount(_ query: String) async throws -> Int {
        try await client.execute(uri: "/v1/list/d/?" + query, method: .get) { response in
          #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
          return String(buffer: response.body).components(separatedBy: "/v1/file/").count - 1
        }
      }
      // Non-recursive: 30 files directly in d/ (and 4 sub-directories); recursive: all 40.
      for spelling in ["true", "TRUE", "1", "yes", "Yes", "on", "ON", ""] {
        #expect(try await fileCount("recursive=\(spelling)") == 40, "recursive=\(spelling)")
      }
      #expect(try await fileCount("recursive") == 40)
      #expect(try await fileCount("recursive=yes&limit=100") == 40)
      for spelling in ["false", "False", "0", "no", "NO", "off", "Off"] {
        #expect(try await fileCount("recursive=\(spelling)") == 30, "recursive=\(spelling)")
      }
      for spelling in ["maybe", "2", "y", "truee", "%FF"] {
        try await client.execute(uri: "/v1/list/d/?recursive=\(spelling)", method: .get) { response in
          #expect(response.status == .badRequest, "recursive=\(spelling)")
          #expect(response.headers[.contentType] == "application/json")
          let body = String(buffer: response.body)
          #expect(body.contains("recursive must be true or false (also 1/0, yes/no, on/off)"), "\(body)")
        }
      }
      try await client.execute(uri: "/v1/list/d/?recursive=maybe", method: .get) {
        #expect(String(buffer: $0.body).contains("not 'maybe'"))
      }
      try await client.execute(uri: "/v1/list/d/?recursive=maybe", method: .head) {
        #expect($0.status == .badRequest)
      }
    }
  }
}

/// Inflates gzip data with zlib (test helper).
func inflate(_ data: [UInt8]) -> [UInt8] {
  var stream = z_stream()
  guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return [] }
  defer { inflateEnd(&stream) }
  var input = data
  var output: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65_536)
  input.withUnsafeMutableBufferPointer { inBuffer in
    stream.next_in = inBuffer.baseAddress
    stream.avail_in = UInt32(inBuffer.count)
    while true {
      let (status, produced) = buffer.withUnsafeMutableBufferPointer { outBuffer -> (Int32, Int) in
        stream.next_out = outBuffer.baseAddress
        stream.avail_out = UInt32(outBuffer.count)
        let status = CZlib.inflate(&stream, Z_NO_FLUSH)
        return (status, outBuffer.count - Int(stream.avail_out))
      }
      output += buffer[0..<produced]
      if status != Z_OK { break }
    }
  }
  return output
}
