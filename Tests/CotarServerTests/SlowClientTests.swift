import CotarCore
import CotarServer
import CotarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite("Slow clients", .timeLimit(.minutes(5)))
struct SlowClientTests {
  @Test("A client that stops reading holds back reads from the archive (bounded memory)")
  func stalledClient() async throws {
    let entrySize = 64 << 20
    var builder = TestTar()
    builder.add("huge.bin", [UInt8](repeating: 0x5A, count: entrySize))
    let tar = builder.finished
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    let counting = CountingSource(MemorySource(tar + index, identity: "huge.tar.co"))
    let archive = try await ServedArchive.open(name: "huge.tar.co", tar: counting, buildListing: false)
    let app = try TestServer.application([archive])
    try await app.test(.live) { client in
      let port = try #require(client.port)
      counting.reset()
      let connection = try #require(LoopbackClient(port: port))
      #expect(connection.send("GET /v1/file/huge.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
      // Never read: the server can only fill the socket and channel buffers, then must wait.
      // How much that is depends on the kernel's TCP buffers and on load, so the test asks
      // that reading stops well short of the entry, not for an exact figure.
      var previous: UInt64 = 0
      var stableFor = 0
      for _ in 0..<100 where stableFor < 5 {
        try await Task.sleep(for: .milliseconds(100))
        let now = counting.counts.bytes
        stableFor = (now == previous && now > 0) ? stableFor + 1 : 0
        previous = now
      }
      let read = counting.counts.bytes
      #expect(stableFor >= 5, "the server kept reading for a client that reads nothing")
      #expect(read > 0)
      #expect(read < UInt64(entrySize) / 2, "the server read \(read) of \(entrySize) bytes for a client that reads nothing")
    }
  }

  @Test("A client that pipelines small requests and reads nothing gets answers only as fast as it reads")
  func pipeliningNonReader() async throws {
    let entrySize = 48 << 10  // small enough for the fast path, so answers are written on the event loop
    var builder = TestTar()
    builder.add("mid.bin", (0..<entrySize).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    let tar = builder.finished
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    let archive = try await ServedArchive.open(
      name: "mid.tar.co", tar: MemorySource(tar + index, identity: "mid.tar.co"), buildListing: false)
    let server = try TestServer.server([archive])
    try await server.makeApplication().test(.live) { client in
      let port = try #require(client.port)
      let connection = try #require(LoopbackClient(port: port))
      let count = 1500  // 72 MiB of answers
      let request = "GET /v1/file/mid.bin HTTP/1.1\r\nHost: x\r\n\r\n"
      let requests = String(repeating: request, count: count - 1) + request.replacingOccurrences(of: "Host: x", with: "Connection: close")
      // The send blocks once the server stops reading: a Dispatch thread waits in it.
      async let sent = connection.sendOffThePool(requests)
      var previous = -1
      var stableFor = 0
      for _ in 0..<100 where stableFor < 5 {
        try await Task.sleep(for: .milliseconds(100))
        let now = server.responder.fastAnswers
        stableFor = now == previous && now > 0 ? stableFor + 1 : 0
        previous = now
      }
      let answeredUnread = server.responder.fastAnswers
      #expect(stableFor >= 5, "the server kept answering a client that reads nothing")
      #expect(answeredUnread < count / 4, "\(answeredUnread) of \(count) answers written for a client that reads nothing")
      // Reading everything gets every answer, in order and whole.
      let (received, closed) = await connection.readUntilClosed(timeout: .seconds(30))
      #expect(await sent)
      #expect(closed)
      #expect(received.count > count * entrySize)
      #expect(server.responder.fastAnswers == count - 1)  // the last one, `Connection: close`, took the general path
    }
  }
}
