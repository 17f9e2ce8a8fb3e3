import CotarCore
import CotarServer
import CotarTestSupport
import Hummingbird
import HummingbirdTesting
import Dispatch
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite("Connection limits: idle and head timeouts, connection cap", .timeLimit(.minutes(5)))
struct ConnectionLimitTests {
  static func app(_ limits: CotarServerConfiguration.ConnectionLimits) async throws -> Application<CotarResponder> {
    var configuration = TestServer.configuration()
    configuration.limits = limits
    return try TestServer.application([try await TestServer.tarCo()], configuration: configuration)
  }

  @Test("An idle keep-alive connection is closed after the idle timeout, not before")
  func idleTimeout() async throws {
    let app = try await Self.app(.init(idleTimeout: .milliseconds(800), requestHeadTimeout: .seconds(5)))
    try await app.test(.live) { client in
      let port = try #require(client.port)
      let connection = try #require(LoopbackClient(port: port))
      #expect(connection.send("GET /v1/file/a.txt HTTP/1.1\r\nHost: t\r\n\r\n"))
      let start = ContinuousClock.now
      let (bytes, closed) = await connection.readUntilClosed(timeout: .seconds(60))
      let elapsed = ContinuousClock.now - start
      #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
      #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("Hello, cotar server!\n"))
      #expect(closed, "the idle connection was not closed within 60 s")
      // The lower bound is the feature (not before the timeout); the upper one only tells
      // "closed by the idle timer" from "never closed", with room for a loaded machine.
      #expect(elapsed >= .milliseconds(600) && elapsed < .seconds(45), "closed after \(elapsed)")
    }
  }

  @Test("A request head trickled byte by byte (slowloris) is cut at the head timeout")
  func slowloris() async throws {
    let app = try await Self.app(.init(idleTimeout: .seconds(300), requestHeadTimeout: .milliseconds(500)))
    try await app.test(.live) { client in
      let port = try #require(client.port)
      let connection = try #require(LoopbackClient(port: port))
      // A head that never ends (no empty line), one byte per 100 ms or slower: about 15 s.
      let head = "GET /v1/file/a.txt HTTP/1.1\r\nHost: t\r\nX-Padding: " + String(repeating: "a", count: 110) + "\r\n"
      let start = ContinuousClock.now
      var closedAfter: Duration?
      var sent = 0
      for byte in head {
        guard connection.send(String(byte)) else {
          closedAfter = ContinuousClock.now - start
          break
        }
        sent += 1
        if await connection.readUntilClosed(timeout: .milliseconds(100)).closed {
          closedAfter = ContinuousClock.now - start
          break
        }
      }
      // Only the head timer closes this connection before the whole head is sent (the idle
      // timeout is 5 minutes), and not before its 500 ms. How late the close is seen depends on
      // the machine's load, so no upper bound on time: the bound is the head not yet sent.
      let after = try #require(closedAfter, "a trickled head of \(head.count) bytes kept the connection open")
      #expect(after >= .milliseconds(400), "closed after \(after)")
      #expect(sent < head.count, "closed only after the whole head was sent")
    }
  }

  @Test("Above the connection cap a new connection gets 503 and is closed; the others keep working")
  func connectionCap() async throws {
    let app = try await Self.app(.init(maxConnections: 3))
    try await app.test(.live) { client in
      let port = try #require(client.port)
      // The test client itself may hold one connection; open until one is refused.
      var held: [LoopbackClient] = []
      var refusal: String?
      for _ in 0..<6 {
        let connection = try #require(LoopbackClient(port: port))
        let (bytes, closed) = await connection.readUntilClosed(timeout: .milliseconds(300))
        if closed {
          refusal = String(decoding: bytes, as: UTF8.self)
          break
        }
        held.append(connection)
      }
      let text = try #require(refusal, "no connection was refused")
      #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable"))
      #expect(text.contains("Retry-After: 1"))
      #expect(held.count <= 3)
      // A held connection is still served.
      let first = try #require(held.first)
      #expect(first.send("GET /v1/file/a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
      let answer = String(decoding: await first.readUntilClosed(timeout: .seconds(60)).bytes, as: UTF8.self)
      #expect(answer.hasPrefix("HTTP/1.1 200"))
    }
  }
}
