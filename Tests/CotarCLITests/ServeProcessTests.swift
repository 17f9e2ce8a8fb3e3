import CotarTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `cotar serve` as a child process under hostile load, with stated bounds. Loopback only;
/// every phase is bounded in count and time.
@Suite("cotar serve under load (child process)", .serialized, .timeLimit(.minutes(5)))
struct ServeProcessTests {
  /// A `.tar.co` with one 64 MiB entry `huge.bin` and a small `a.txt`.
  static func hugeArchive(in directory: URL) async throws -> URL {
    let tar = directory.appendingPathComponent("huge.tar")
    var builder = TestTar()
    builder.add("huge.bin", [UInt8](repeating: 0x5A, count: 64 << 20))
    builder.add("a.txt", "small\n")
    try Data(builder.finished).write(to: tar)
    let created = try await CLI.run(["create", tar.path])
    #expect(created.status == 0, "\(created.stderr)")
    return directory.appendingPathComponent("huge.tar.co")
  }

  static let rssBound = 150 << 20

  @Test("100 readers that never read a 64 MiB entry stay under 150 MB RSS; memory is returned after they leave")
  func stalledReaders() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let archive = try await Self.hugeArchive(in: directory)
    let server = try await ServeProcess.start([archive.path, "--quiet"], in: directory)
    let idle = try #require(server.residentBytes())
    var clients: [LoopbackClient] = []
    for _ in 0..<100 {
      let client = try #require(LoopbackClient(port: server.port))
      #expect(client.send("GET /v1/file/huge.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
      clients.append(client)
    }
    // Let the server fill every socket and reach its steady state (it grows for seconds
    // without the bound), sampling the peak.
    var peak = 0
    for _ in 0..<30 {
      try await Task.sleep(for: .milliseconds(100))
      peak = max(peak, server.residentBytes() ?? 0)
    }
    #expect(peak < Self.rssBound, "RSS \(peak >> 20) MiB with 100 stalled readers (idle \(idle >> 20) MiB)")
    clients.removeAll()
    try await Task.sleep(for: .seconds(2))
    let after = try #require(server.residentBytes())
    #expect(after < idle + (40 << 20), "RSS \(after >> 20) MiB after the readers left (idle \(idle >> 20) MiB, peak \(peak >> 20) MiB)")
    // Still serving.
    #expect(await LoopbackClient.get(port: server.port, "/v1/file/a.txt")?.hasSuffix("small\n") == true)
    print("stalled readers: idle \(idle >> 20) MiB, peak \(peak >> 20) MiB, after \(after >> 20) MiB")
  }

  @Test("At the open-file limit the server sheds excess connections with 503 and keeps serving the rest")
  func fileDescriptorLimit() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let archive = try await Self.hugeArchive(in: directory)
    // 256 descriptors: the default cap becomes 256 - 64 = 192 connections.
    let server = try await ServeProcess.start([archive.path, "--quiet"], shellPrefix: "ulimit -n 256 &&", in: directory)
    #expect(server.log.contains("at most 192 connections"), "\(server.log)")
    var held: [LoopbackClient] = []
    var refused = 0
    for _ in 0..<300 {
      guard let client = LoopbackClient(port: server.port, receiveTimeout: .milliseconds(50)) else {
        refused += 1
        continue
      }
      let (bytes, closed) = await client.readOffThePool()
      if closed {
        if String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 503") { refused += 1 }
      } else {
        held.append(client)
      }
    }
    if held.count > 192 {
      // On a loaded machine a refusal can take longer than the 50 ms read: let late 503s land.
      try await Task.sleep(for: .seconds(1))
      held.removeAll { client in
        let (bytes, closed) = client.readAvailable()
        guard closed || String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 503") else { return false }
        refused += 1
        return true
      }
    }
    #expect(held.count <= 192)
    #expect(refused >= 100, "only \(refused) of 300 connections were shed")
    // At the limit the server neither spins nor stalls.
    let cpuBefore = try #require(server.cpuSeconds())
    try await Task.sleep(for: .seconds(1))
    let cpu = try #require(server.cpuSeconds()) - cpuBefore
    #expect(cpu < 0.3, "the server used \(cpu) s of CPU in 1 s while at its connection cap")
    let first = try #require(held.first)
    let start = ContinuousClock.now
    #expect(first.send("GET /v1/file/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
    // Read to the close (the client's 50 ms receive timeout ended the read early at load 18).
    let answer = String(decoding: await first.readUntilClosed(timeout: .seconds(20)).bytes, as: UTF8.self)
    #expect(answer.hasPrefix("HTTP/1.1 200") && answer.hasSuffix("small\n"))
    // A stall would last until the 60 s idle timeout; 20 s leaves room for a loaded machine.
    #expect(ContinuousClock.now - start < .seconds(20))
    held.removeAll()
    try await Task.sleep(for: .milliseconds(300))
    let fresh = ContinuousClock.now
    #expect(await LoopbackClient.get(port: server.port, "/v1/file/a.txt")?.hasPrefix("HTTP/1.1 200") == true)
    #expect(ContinuousClock.now - fresh < .seconds(20))
  }

  @Test("SIGTERM with a stalled download: stops accepting, exits within the grace period")
  func shutdownGrace() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let archive = try await Self.hugeArchive(in: directory)
    let server = try await ServeProcess.start([archive.path, "--shutdown-grace", "1"], in: directory)
    let stalled = try #require(LoopbackClient(port: server.port))
    #expect(stalled.send("GET /v1/file/huge.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    let idle = try #require(LoopbackClient(port: server.port))
    try await Task.sleep(for: .milliseconds(500))
    let start = Date()
    server.signal(SIGTERM)
    try await Task.sleep(for: .milliseconds(300))
    let late = await LoopbackClient.get(port: server.port, "/v1/file/a.txt")
    #expect(late?.hasPrefix("HTTP/1.1 200") != true, "a connection made after SIGTERM was served")
    // Without the grace period's cut the stalled download would hold the exit until the 60 s
    // idle timeout; 20 s leaves room for a loaded machine.
    #expect(await server.waitForExit(timeout: 30), "still running 30 s after SIGTERM with a 1 s grace period")
    let elapsed = Date().timeIntervalSince(start)
    #expect(elapsed < 20, "exit took \(elapsed) s")
    #expect(server.process.terminationStatus == 0, "\(server.log)")
    _ = idle
  }
}
