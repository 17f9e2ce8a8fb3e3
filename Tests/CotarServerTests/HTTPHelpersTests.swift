import CotarServer
import Testing

@Suite("HTTP helpers")
struct HTTPHelpersTests {
  @Test(
    "Range header interpretation (RFC 9110 §14.1.2)",
    arguments: [
      ("bytes=0-4", 10, ByteRangeRequest.partial(0..<5)),
      ("bytes=5-", 10, .partial(5..<10)),
      ("bytes=-3", 10, .partial(7..<10)),
      ("bytes=-30", 10, .partial(0..<10)),
      ("bytes=8-100", 10, .partial(8..<10)),
      ("bytes=9-9", 10, .partial(9..<10)),
      ("bytes=10-", 10, .unsatisfiable),
      ("bytes=10-20", 10, .unsatisfiable),
      ("bytes=-0", 10, .unsatisfiable),
      ("bytes=0-", 0, .unsatisfiable),
      ("bytes=-5", 0, .whole),
      ("bytes=5-2", 10, .whole),
      ("bytes=0-1,4-5", 10, .whole),
      ("items=0-1", 10, .whole),
      ("bytes=a-b", 10, .whole),
      ("bytes=-", 10, .whole),
      (" Bytes = 2-3 ", 10, .partial(2..<4)),
      ("bytes=99999999999999999999999-", 10, .unsatisfiable),
    ] as [(String, UInt64, ByteRangeRequest)])
  func ranges(header: String, length: UInt64, expected: ByteRangeRequest) {
    #expect(ByteRangeRequest(header: header, length: length) == expected)
  }

  @Test("No Range header means the whole representation")
  func noRange() {
    #expect(ByteRangeRequest(header: nil, length: 10) == .whole)
  }

  @Test("Percent-decoding keeps raw bytes and rejects malformed escapes")
  func percentDecoding() {
    #expect(PercentEncoding.decode("a%20b") == Array("a b".utf8))
    #expect(PercentEncoding.decode("odd%FF.bin") == Array("odd".utf8) + [0xFF] + Array(".bin".utf8))
    #expect(PercentEncoding.decode("a+b/../c") == Array("a+b/../c".utf8))
    #expect(PercentEncoding.decode("%2e%2E") == Array("..".utf8))
    #expect(PercentEncoding.decode("bad%zz") == nil)
    #expect(PercentEncoding.decode("bad%4") == nil)
    #expect(PercentEncoding.decode("bad%") == nil)
  }

  @Test("Percent-encoding escapes non-pchar bytes and dot segments")
  func percentEncoding() {
    var out: [UInt8] = []
    PercentEncoding.appendEncodedPath(Array("./a b/../c%/".utf8) + [0xFF] + Array("/.x".utf8), to: &out)
    #expect(String(decoding: out, as: UTF8.self) == "%2E/a%20b/%2E%2E/c%25/%FF/.x")
  }

  @Test("Routes: single- and multi-archive forms, raw archives, errors")
  func routes() throws {
    let names: [(name: [UInt8], indexName: [UInt8]?)] = [
      (Array("one.tar.co".utf8), nil), (Array("two.tar".utf8), Array("two.tar.index".utf8)),
    ]
    func route(_ path: String) throws(Route.Failure) -> Route { try Route(path: path[...], archives: names) }
    #expect(try route("/v1/file/a/b.txt") == .file(archive: 0, path: Array("a/b.txt".utf8)))
    #expect(try route("/v1/file//abs") == .file(archive: 0, path: Array("/abs".utf8)))
    #expect(try route("/v1/file/../x") == .file(archive: 0, path: Array("../x".utf8)))
    #expect(try route("/v1/two.tar/file/x") == .file(archive: 1, path: Array("x".utf8)))
    #expect(try route("/v1/list") == .list(archive: 0, directory: []))
    #expect(try route("/v1/list/") == .list(archive: 0, directory: []))
    #expect(try route("/v1/list/dir/sub") == .list(archive: 0, directory: Array("dir/sub".utf8)))
    #expect(try route("/v1/two.tar/list") == .list(archive: 1, directory: []))
    #expect(try route("/archive/one.tar.co") == .rawArchive(archive: 0))
    #expect(try route("/archive/two.tar.index") == .rawIndex(archive: 1))
    #expect(try route("/archive/two.tar.names") == .rawNames(archive: 1))
    #expect(throws: Route.Failure.self) { try route("/archive/one.tar.co.names") }
    #expect(throws: Route.Failure.self) { try route("/archive/.names") }
    #expect(try route("/health") == .health)
    #expect(throws: Route.Failure.self) { try route("/v1/file/") }
    #expect(throws: Route.Failure.malformed("malformed percent escape in the path")) { try route("/v1/file/%zz") }
    #expect(throws: Route.Failure.malformed("NUL byte in the path")) { try route("/v1/file/a%00b") }
    #expect(throws: Route.Failure.notFound("unknown path")) { try route("/etc/passwd") }
    #expect(throws: Route.Failure.self) { try route("/v1/three.tar/file/x") }
    #expect(throws: Route.Failure.self) { try route("/archive/three.tar") }
  }

  @Test("ETag comparisons: If-None-Match is weak, If-Range is strong")
  func entityTags() {
    let tag = EntityTag.entry(archiveTag: "abc", offset: 512, size: 14)
    #expect(tag.description == "\"abc-200-e\"")
    #expect(tag.matches(ifNoneMatch: "\"abc-200-e\""))
    #expect(tag.matches(ifNoneMatch: "\"x\", W/\"abc-200-e\""))
    #expect(tag.matches(ifNoneMatch: "*"))
    #expect(!tag.matches(ifNoneMatch: "\"abc-200-f\""))
    #expect(tag.allowsRange(ifRange: "\"abc-200-e\"", lastModified: nil))
    #expect(!tag.allowsRange(ifRange: "W/\"abc-200-e\"", lastModified: nil))
    let date = HTTPDate(secondsSince1970: 784_111_777)
    #expect(tag.allowsRange(ifRange: "Sun, 06 Nov 1994 08:49:37 GMT", lastModified: date))
    #expect(!tag.allowsRange(ifRange: "Sun, 06 Nov 1994 08:49:38 GMT", lastModified: date))
  }

  @Test("HTTP dates format and parse as IMF-fixdate")
  func dates() {
    #expect(HTTPDate(secondsSince1970: 784_111_777).description == "Sun, 06 Nov 1994 08:49:37 GMT")
    #expect(HTTPDate(secondsSince1970: 0).description == "Thu, 01 Jan 1970 00:00:00 GMT")
    #expect(HTTPDate(secondsSince1970: 951_782_400).description == "Tue, 29 Feb 2000 00:00:00 GMT")
    #expect(HTTPDate(parsing: "Sun, 06 Nov 1994 08:49:37 GMT")?.secondsSince1970 == 784_111_777)
    #expect(HTTPDate(parsing: "Sunday, 06-Nov-94 08:49:37 GMT") == nil)
    #expect(HTTPDate(parsing: "garbage") == nil)
    for seconds: Int64 in [1, 86_399, 1_700_000_000, 4_102_444_800] {
      #expect(HTTPDate(parsing: HTTPDate(secondsSince1970: seconds).description)?.secondsSince1970 == seconds)
    }
  }

  @Test("Accept-Encoding negotiation for gzip")
  func acceptEncoding() {
    #expect(ContentNegotiation.acceptsGzip("gzip, deflate, br"))
    #expect(ContentNegotiation.acceptsGzip("br;q=1.0, GZIP;q=0.5"))
    #expect(ContentNegotiation.acceptsGzip("*"))
    #expect(!ContentNegotiation.acceptsGzip(nil))
    #expect(!ContentNegotiation.acceptsGzip("identity"))
    #expect(!ContentNegotiation.acceptsGzip("gzip;q=0"))
    #expect(!ContentNegotiation.acceptsGzip("*, gzip;q=0"))
  }

  @Test("Media types by extension")
  func mediaTypes() {
    #expect(MediaTypes.type(forPath: Array("a/b.JSON".utf8)) == "application/json")
    #expect(MediaTypes.type(forPath: Array("tiles/1/2/3.pbf".utf8)) == "application/x-protobuf")
    #expect(MediaTypes.type(forPath: Array("x.tif".utf8)) == "image/tiff")
    #expect(MediaTypes.type(forPath: Array("noext".utf8)) == MediaTypes.fallback)
    #expect(MediaTypes.type(forPath: Array("dir.d/noext".utf8)) == MediaTypes.fallback)
    #expect(MediaTypes.fileExtension(of: Array("a.pbf.gz".utf8)) == "gz")
  }
}
