import CotarCore
@testable import CotarServer
import CotarTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `--cors` headers are the same on the fast path and the general path: with a list of
/// origins every answer varies on `Origin`; with `*` every answer allows any origin.
@Suite("CORS on both paths", .timeLimit(.minutes(5)))
struct CORSTests {
  /// A live server of the standard archive with `cors`, and the requests it answered before decoding.
  static func withServer(
    cors: [String], _ body: @Sendable (any TestClientProtocol, CotarServer) async throws -> Void
  ) async throws {
    let server = try TestServer.server([try await TestServer.tarCo()], configuration: TestServer.configuration(cors: cors))
    try await server.makeApplication().test(.live) { try await body($0, server) }
  }

  @Test("With several origins, every answer carries Vary: Origin, fast or not, Origin sent or not")
  func listedOrigins() async throws {
    try await Self.withServer(cors: ["http://a.example", "http://b.example"]) { client, server in
      // A plain GET is a fast answer; If-None-Match (another tag) or Range send it the general way.
      let before = server.responder.fastAnswers
      let fast = try await client.execute(uri: "/v1/file/a.txt", method: .get) { $0 }
      #expect(server.responder.fastAnswers == before + 1)
      #expect(fast.headers[values: .vary].contains("Origin"), "\(fast.headers)")
      #expect(fast.headers[.accessControlAllowOrigin] == nil)
      let general = try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.ifNoneMatch: "\"other\""]) { $0 }
      #expect(server.responder.fastAnswers == before + 1)
      #expect(FastPathTests.fields(fast) == FastPathTests.fields(general))
      let head = try await client.execute(uri: "/v1/file/dir/b.json", method: .head) { $0 }
      #expect(server.responder.fastAnswers == before + 2)
      #expect(head.headers[values: .vary].contains("Origin"))
      let ranged = try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.range: "bytes=0-1"]) { $0 }
      #expect(ranged.status == .partialContent)
      #expect(ranged.headers[values: .vary].contains("Origin"))
      for origin in ["http://a.example", "http://b.example"] {
        try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.origin: origin]) { response in
          #expect(response.headers[.accessControlAllowOrigin] == origin)
          #expect(response.headers[values: .vary].contains("Origin"))
          #expect(response.headers[.accessControlExposeHeaders] == CORSPolicy.exposed)
        }
      }
      try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.origin: "http://c.example"]) { response in
        #expect(response.headers[.accessControlAllowOrigin] == nil)
        #expect(response.headers[values: .vary].contains("Origin"))
      }
      try await client.execute(uri: "/v1/list/", method: .get) { #expect($0.headers[values: .vary].contains("Origin")) }
      #expect(server.responder.fastAnswers == before + 2)
    }
  }

  @Test("With *, every answer allows any origin, fast or not, Origin sent or not, and does not vary on it")
  func anyOrigin() async throws {
    try await Self.withServer(cors: ["*"]) { client, server in
      let before = server.responder.fastAnswers
      let fast = try await client.execute(uri: "/v1/file/a.txt", method: .get) { $0 }
      #expect(server.responder.fastAnswers == before + 1)
      let general = try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.ifNoneMatch: "\"other\""]) { $0 }
      #expect(FastPathTests.fields(fast) == FastPathTests.fields(general))
      let others = [
        try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.range: "bytes=0-1"]) { $0 },
        try await client.execute(uri: "/v1/file/a.txt", method: .get, headers: [.origin: "http://a.example"]) { $0 },
        try await client.execute(uri: "/v1/file/nothing", method: .get) { $0 },
        try await client.execute(uri: "/v1/list/", method: .get) { $0 },
      ]
      #expect(server.responder.fastAnswers == before + 1)
      for response in [fast, general] + others {
        #expect(response.headers[.accessControlAllowOrigin] == "*", "\(response.status) \(response.headers)")
        #expect(response.headers[.accessControlExposeHeaders] == CORSPolicy.exposed)
        #expect(!response.headers[values: .vary].contains("Origin"), "\(response.headers)")
      }
    }
  }
}
