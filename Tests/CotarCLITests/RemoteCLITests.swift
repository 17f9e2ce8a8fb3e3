import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// `cotar` against a real HTTP server on 127.0.0.1: request budgets seen through `--stats`.
@Suite("cotar with http:// archives", .timeLimit(.minutes(5)))
struct RemoteCLITests {
  /// Archives built once: 1,000 entries (index fits the first read) and 20,000 (it does not).
  static let small = Task { try await TestArchive.make(count: 1000) }
  static let large = Task { try await TestArchive.make(count: 20_000, contentSize: { $0 % 5 == 0 ? 0 : 1 + $0 % 300 }) }

  @Test("get on a large .tar.co costs 3 requests cold, byte-exact")
  func largeCombined() async throws {
    let archive = try await Self.large.value
    #expect(archive.index.count > 64 << 10)
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("big.tar.co", archive.combined)
    let file = archive.fileAtTableStart
    let result = try await CLI.run(["get", server.url("big.tar.co"), file.path, "--stats"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(Array(result.stdout) == file.bytes)
    #expect(result.stderr.contains("stats: total: 3 requests"), "\(result.stderr)")
    #expect(server.requestCount == 3)
  }

  @Test("get on a small .tar.co costs 2 requests cold")
  func smallCombined() async throws {
    let archive = try await Self.small.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("small.tar.co", archive.combined)
    let file = archive.files[321]
    let result = try await CLI.run(["get", server.url("small.tar.co"), file.path, "--stats"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(Array(result.stdout) == file.bytes)
    #expect(result.stderr.contains("stats: total: 2 requests"), "\(result.stderr)")
  }

  @Test("a .tar URL finds URL.index; without one it is read as a .tar.co")
  func sidecarGuess() async throws {
    let archive = try await Self.large.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("big.tar", archive.tar)
    server.put("big.tar.index", archive.index)
    let file = archive.files[777]
    let result = try await CLI.run(["get", server.url("big.tar"), file.path, "--stats"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(Array(result.stdout) == file.bytes)
    #expect(result.stderr.contains("stats: total: 3 requests"), "\(result.stderr)")
    #expect(server.log.first?.path == "/big.tar.index")

    server.put("co.tar", archive.combined)
    server.resetLog()
    let fallback = try await CLI.run(["get", server.url("co.tar"), file.path])
    #expect(fallback.status == 0, "\(fallback.stderr)")
    #expect(Array(fallback.stdout) == file.bytes)
    #expect(server.log.first?.status == 404)
  }

  @Test("info, ls and validate accept URLs; --index takes a URL")
  func otherCommands() async throws {
    let archive = try await Self.small.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar.co", archive.combined)
    server.put("plain.tar", archive.tar)
    server.put("elsewhere.index", archive.index)
    let info = try await CLI.run(["info", server.url("a.tar.co")])
    #expect(info.status == 0, "\(info.stderr)")
    #expect(info.stdoutText.contains("entries: 1000"))
    let list = try await CLI.run(["ls", server.url("a.tar.co"), "--recursive"])
    #expect(list.status == 0, "\(list.stderr)")
    #expect(list.stdoutText.split(separator: "\n").count == 1000)
    let valid = try await CLI.run(["validate", server.url("plain.tar"), "--index", server.url("elsewhere.index")])
    #expect(valid.status == 0, "\(valid.stderr)")
    #expect(valid.stdoutText.hasPrefix("valid: 1000 entries"))
  }

  @Test("batch get writes many entries to a directory with coalesced reads")
  func batchToDirectory() async throws {
    let archive = try await Self.small.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar.co", archive.combined)
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let chosen = Array(archive.files[100..<160])
    let list = directory.appendingPathComponent("paths.txt")
    try Data(chosen.map(\.path).joined(separator: "\n").utf8).write(to: list)
    let out = directory.appendingPathComponent("out").path
    let result = try await CLI.run(["get", server.url("a.tar.co"), "--paths-from", list.path, "-o", out, "--stats"])
    #expect(result.status == 0, "\(result.stderr)")
    for file in chosen {
      #expect(FileManager.default.contents(atPath: out + "/" + file.path).map(Array.init) == file.bytes)
    }
    // One suffix read (the whole index), then the 60 adjacent entries in one coalesced read.
    #expect(server.requestCount == 2, "\(server.log)")
  }

  @Test("a missing URL fails with a clear message and no credentials")
  func notFound() async throws {
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    let result = try await CLI.run(["get", "http://me:pw@127.0.0.1:\(server.port)/nope.tar.co", "x", "--attempts", "1"])
    #expect(result.status != 0)
    #expect(result.stderr.contains("404"))
    #expect(result.stderr.contains("http://127.0.0.1:\(server.port)/nope.tar.co"))
    #expect(!result.stderr.contains("pw@"))
  }
}
