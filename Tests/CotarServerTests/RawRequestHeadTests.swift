import Testing

@testable import CotarServer

/// The strict request-head scan of the fast path: what it answers itself, what it hands to
/// the general path, and what it leaves to NIO's decoder for good.
@Suite("Raw request heads")
struct RawRequestHeadTests {
  static func scan(_ text: String) -> RawRequestHead.Scan {
    Array(text.utf8).withUnsafeBytes { RawRequestHead.scan($0) }
  }

  @Test(
    "Plain GET and HEAD heads are fast, with their exact length",
    arguments: [
      ("GET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", false, "/v1/file/a.txt"),
      ("HEAD /v1/file/a%20b.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n", true, "/v1/file/a%20b.txt"),
      ("GET /x HTTP/1.1\r\nhost:x\r\n\r\n", false, "/x"),
      ("GET /x HTTP/1.1\r\nConnection:  Keep-Alive \r\nX-Empty:\r\nHOST: a\r\n\r\n", false, "/x"),
      ("GET /x?q=1 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", false, "/x?q=1"),
    ])
  func fast(text: String, isHead: Bool, target: String) {
    #expect(Self.scan(text) == .fast(RawRequestHead(isHead: isHead, target: target[...], length: text.utf8.count)))
    // Bytes after the head (a pipelined request) do not change the head.
    #expect(Self.scan(text + "GET /next") == .fast(RawRequestHead(isHead: isHead, target: target[...], length: text.utf8.count)))
  }

  @Test(
    "Heads with a header only the general path handles go to it, exactly as long",
    arguments: [
      "GET /x HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n",
      "GET /x HTTP/1.1\r\nif-none-match: \"a\"\r\n\r\n",
      "GET /x HTTP/1.1\r\nIf-Modified-Since: Mon, 30 Nov 2026 00:00:00 GMT\r\n\r\n",
      "HEAD /x HTTP/1.1\r\nOrigin: http://example.com\r\n\r\n",
      "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n",
      "GET /x HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
      "GET /x HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
    ])
  func general(text: String) {
    #expect(Self.scan(text) == .general(length: text.utf8.count, closes: false))
  }

  @Test(
    "Anything outside the strict subset is left to the decoder",
    arguments: [
      "POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
      "GET /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
      "GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "GET http://host/x HTTP/1.1\r\n\r\n",
      "GET * HTTP/1.1\r\n\r\n",
      "GET  /x HTTP/1.1\r\n\r\n",
      "GET /x HTTP/1.1\n\n",
      "GET /x HTTP/1.1\r\nHost: x\n\r\n",
      "GET /x HTTP/1.1\r\nHost : x\r\n\r\n",
      "GET /x HTTP/1.1\r\n folded\r\n\r\n",
      "GET /x HTTP/1.1\r\n: empty name\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: a\u{0}b\r\n\r\n",
      "GET /\u{7F} HTTP/1.1\r\n\r\n",
      "GET /é HTTP/1.1\r\n\r\n",
      "\r\nGET /x HTTP/1.1\r\n\r\n",
      "get /x HTTP/1.1\r\n\r\n",
      "OPTIONS /x HTTP/1.1\r\n\r\n",
    ])
  func undecodable(text: String) {
    #expect(Self.scan(text) == .undecodable)
  }

  @Test("HTTP/1.0 heads are read, and marked to close the connection after their answer")
  func http10() {
    let fast = "GET /x HTTP/1.0\r\nUser-Agent: ApacheBench/2.3\r\n\r\n"
    #expect(Self.scan(fast) == .fast(RawRequestHead(isHead: false, target: "/x", length: fast.utf8.count, closes: true)))
    let general = "GET /x HTTP/1.0\r\nRange: bytes=0-1\r\n\r\n"
    #expect(Self.scan(general) == .general(length: general.utf8.count, closes: true))
    #expect(Self.scan("GET /x HTTP/0.9\r\n\r\n") == .undecodable)
    #expect(Self.scan("GET /x HTTP/1.") == .incomplete)
  }

  @Test("Every strict prefix of a fast or general head is incomplete")
  func prefixes() {
    for text in ["GET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD /x HTTP/1.1\r\nRange: bytes=0-\r\n\r\n"] {
      let bytes = Array(text.utf8)
      for end in 1..<bytes.count {
        #expect(bytes[..<end].withUnsafeBytes { RawRequestHead.scan($0) } == .incomplete, "\(end) bytes of \(text)")
      }
    }
  }

  @Test("A head longer than the limit, or with too many fields, is left to the decoder")
  func limits() {
    let long = "GET /" + String(repeating: "a", count: RawRequestHead.maximumLength) + " HTTP/1.1\r\nHost: x\r\n\r\n"
    #expect(Self.scan(long) == .undecodable)
    // The target may still grow to its own limit.
    #expect(Self.scan(String(long.prefix(RawRequestHead.maximumLength))) == .incomplete)
    let many = "GET /x HTTP/1.1\r\n" + String(repeating: "A: b\r\n", count: RawRequestHead.maximumFields + 1) + "\r\n"
    #expect(Self.scan(many) == .undecodable)
    let enough =
      "GET /x HTTP/1.1\r\nHost: x\r\n" + String(repeating: "A: b\r\n", count: RawRequestHead.maximumFields - 1) + "\r\n"
    #expect(Self.scan(enough) == .fast(RawRequestHead(isHead: false, target: "/x", length: enough.utf8.count)))
  }

  @Test("A request target over its limit is refused (414), as soon as the limit is passed")
  func targetTooLong() {
    let limit = RawRequestHead.maximumTargetLength
    let atLimit = "GET /" + String(repeating: "a", count: limit - 1)
    #expect(Self.scan(atLimit) == .incomplete)
    #expect(Self.scan(atLimit + " HTTP/1.1\r\nHost: x\r\n\r\n") == .undecodable)  // over the head limit: the decoder's
    #expect(Self.scan(atLimit + "a") == .targetTooLong)
    #expect(Self.scan("HEAD /" + String(repeating: "%41", count: 40_000) + " HTTP/1.1\r\n\r\n") == .targetTooLong)
    // An absolute-form target is the decoder's, whatever its length.
    #expect(Self.scan("GET http://x/" + String(repeating: "a", count: limit)) == .undecodable)
    #expect(RawRequestHead.targetTooLongAnswer.hasPrefix("HTTP/1.1 414 URI Too Long\r\n"))
    let body = RawRequestHead.targetTooLongAnswer.split(separator: "\r\n\r\n", maxSplits: 1).last ?? ""
    #expect(RawRequestHead.targetTooLongAnswer.contains("Content-Length: \(body.utf8.count)\r\n"))
  }

  @Test("An HTTP/1.1 head without exactly one Host goes to the general path (to be refused); HTTP/1.0 needs none")
  func host() {
    for text in [
      "GET /x HTTP/1.1\r\n\r\n", "GET /x HTTP/1.1\r\nUser-Agent: a\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    ] {
      #expect(Self.scan(text) == .general(length: text.utf8.count, closes: false), "\(text)")
    }
    let old = "GET /x HTTP/1.0\r\n\r\n"
    #expect(Self.scan(old) == .fast(RawRequestHead(isHead: false, target: "/x", length: old.utf8.count, closes: true)))
  }
}
