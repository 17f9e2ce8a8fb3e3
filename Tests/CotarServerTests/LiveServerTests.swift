import CotarServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Live server on 127.0.0.1", .timeLimit(.minutes(5)))
struct LiveServerTests {
  @Test("Entries, ranges, 304 and streaming over a real socket")
  func live() async throws {
    let app = try TestServer.application(
      [try await TestServer.tarCo(), try await TestServer.split()], configuration: TestServer.configuration(accessLog: true))
    try await app.test(.live) { client in
      #expect(client.port != nil)
      try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
      let etag = try await client.execute(uri: "/v1/file/big.bin", method: .get) { response in
        #expect(response.status == .ok)
        #expect(Array(response.body.readableBytesView) == TestFiles.big)
        return try #require(response.headers[.eTag])
      }
      try await client.execute(uri: "/v1/file/big.bin", method: .get, headers: [.ifNoneMatch: etag]) {
        #expect($0.status == .notModified)
      }
      try await client.execute(uri: "/v1/file/big.bin", method: .get, headers: [.range: "bytes=-100000"]) { response in
        #expect(response.status == .partialContent)
        #expect(Array(response.body.readableBytesView) == Array(TestFiles.big.suffix(100_000)))
      }
      try await client.execute(uri: "/v1/file/big.bin", method: .head) { response in
        #expect(response.headers[.contentLength] == String(TestFiles.big.count))
        #expect(response.body.readableBytes == 0)
      }
      try await client.execute(uri: "/v1/file/tiles/0/0/0.pbf", method: .get) {
        #expect(Array($0.body.readableBytesView) == TestFiles.tileText)
      }
      try await client.execute(uri: "/v1/list/dir", method: .get) {
        #expect(String(buffer: $0.body) == #"{"files":["/v1/file/dir/b.json","/v1/list/dir/sub/"]}"#)
      }
      try await client.execute(uri: "/v1/second.tar/file/other.txt", method: .get) {
        #expect(String(buffer: $0.body) == "second archive\n")
      }
      try await client.execute(uri: "/v1/file/a.txt", method: .delete) { #expect($0.status == .methodNotAllowed) }
    }
  }
}
