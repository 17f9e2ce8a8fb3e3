import CotarCore
import CotarServer
import CotarTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `/archive/<name>.names`: the `X.tar.names` sidecar of a served `.tar`, answered as
/// `/archive/<name>.index` is (ranges, validators), so a remote reader lists through the server
/// from the table instead of scanning the tar.
@Suite("Raw name-table sidecar", .timeLimit(.minutes(5)))
struct RawNamesTests {
  /// A split `.tar` + `.tar.index` + `.tar.names` of 40 files, and the table's bytes.
  static func splitWithNames(name: String = "named.tar") async throws -> (archive: ServedArchive, names: [UInt8]) {
    var builder = TestTar()
    for index in 0..<40 { builder.add("dir\(index % 4)/file\(index).txt", "content \(index)") }
    let tar = builder.finished
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tar), names: .init())
    let names = try #require(built.names)
    let archive = try await ServedArchive.open(
      name: name,
      sources: .init(tar: MemorySource(tar, identity: name), index: .sidecar(MemorySource(built.index.bytes, identity: name + ".index"))),
      names: MemorySource(names, identity: name + ".names"), version: "v1", lastModified: TestServer.lastModified)
    return (archive, names)
  }

  @Test("GET, HEAD, ranges and 304 of /archive/<name>.names; 404 without a sidecar table")
  func namesSidecar() async throws {
    let (named, names) = try await Self.splitWithNames()
    #expect(named.namesSidecarSize == UInt64(names.count))
    #expect(named.listing?.count == 40)
    let app = try TestServer.application([try await TestServer.tarCo(), try await TestServer.split(), named])
    try await app.test(.router) { client in
      let etag = try await client.execute(uri: "/archive/named.tar.names", method: .get) { response in
        #expect(response.status == .ok)
        #expect(Array(response.body.readableBytesView) == names)
        #expect(response.headers[.contentLength] == String(names.count))
        #expect(response.headers[.acceptRanges] == "bytes")
        #expect(response.headers[.lastModified] == "Tue, 14 Nov 2023 22:13:20 GMT")
        return try #require(response.headers[.eTag])
      }
      // A validator of its own: not the tar's, not the index's.
      let tarTag = try await client.execute(uri: "/archive/named.tar", method: .head) { $0.headers[.eTag] }
      let indexTag = try await client.execute(uri: "/archive/named.tar.index", method: .head) { $0.headers[.eTag] }
      #expect(tarTag != etag && indexTag != etag && tarTag != nil && indexTag != nil)
      try await client.execute(uri: "/archive/named.tar.names", method: .head) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentLength] == String(names.count))
        #expect(response.headers[.eTag] == etag)
        #expect(response.body.readableBytes == 0)
      }
      // The reader's opening read: a suffix larger than the table is all of it.
      try await client.execute(uri: "/archive/named.tar.names", method: .get, headers: [.range: "bytes=-65536"]) { response in
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentRange] == "bytes 0-\(names.count - 1)/\(names.count)")
        #expect(Array(response.body.readableBytesView) == names)
      }
      try await client.execute(uri: "/archive/named.tar.names", method: .get, headers: [.range: "bytes=-16"]) { response in
        #expect(response.status == .partialContent)
        #expect(response.headers[.contentRange] == "bytes \(names.count - 16)-\(names.count - 1)/\(names.count)")
        #expect(Array(response.body.readableBytesView) == Array(names.suffix(16)))
      }
      try await client.execute(uri: "/archive/named.tar.names", method: .get, headers: [.range: "bytes=2-5"]) { response in
        #expect(response.status == .partialContent)
        #expect(Array(response.body.readableBytesView) == Array(names[2...5]))
      }
      try await client.execute(uri: "/archive/named.tar.names", method: .get, headers: [.ifNoneMatch: etag]) { response in
        #expect(response.status == .notModified)
        #expect(response.body.readableBytes == 0)
      }
      try await client.execute(uri: "/archive/named.tar.names", method: .get, headers: [.ifMatch: "\"other\""]) { response in
        #expect(response.status == .preconditionFailed)
      }
      // A .tar.co keeps its table inside; a sidecar archive without X.tar.names has none.
      for uri in ["/archive/test.tar.co.names", "/archive/second.tar.names"] {
        try await client.execute(uri: uri, method: .get) { #expect($0.status == .notFound, "\(uri)") }
        try await client.execute(uri: uri, method: .head) { #expect($0.status == .notFound, "\(uri)") }
      }
    }
  }
}
