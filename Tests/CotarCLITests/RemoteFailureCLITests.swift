import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// `cotar` against dead endpoints and hostile servers: an exit status and one clean error
/// line, quickly, never a trap.
@Suite("cotar with failing http:// archives", .timeLimit(.minutes(5)))
struct RemoteFailureCLITests {
  static let archive = Task { try await TestArchive.make(count: 300) }

  /// The one line `cotar` printed to standard error.
  private static func errorLines(_ result: CommandResult) -> [Substring] {
    result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
  }

  @Test("a refused connection fails at once (one request, no retry) with one clean line")
  func refused() async throws {
    let result = try await CLI.run(["get", "http://127.0.0.1:1/x.tar.co", "a"])
    #expect(result.status == 1)
    let lines = Self.errorLines(result)
    #expect(lines.count == 1, "\(result.stderr)")
    let line = String(lines.first ?? "")
    #expect(line.contains("http://127.0.0.1:1/x.tar.co"))
    #expect(line.contains("connection refused"))
    #expect(!line.contains("errno"))
    #expect(line.filter { $0 == "(" }.count == line.filter { $0 == ")" }.count)
    // "At once" is pinned by counts, not by a clock (a loaded machine stretches any clock): one
    // request and no retry; connections that were retried took 30 s.
    let counted = try await CLI.run(["get", "http://127.0.0.1:1/x.tar.co", "a", "--stats"])
    #expect(counted.stderr.contains("stats: http://127.0.0.1:1/x.tar.co: 1 request, 0 bytes, 0 retries"), "\(counted.stderr)")
  }

  @Test(
    "a hostile Content-Range is an error, not a trap",
    arguments: [
      "bytes 0-18446744073709551615/*", "bytes 0-9223372036854775807/18446744073709551615",
      "bytes 1-18446744073709551615/*",
    ])
  func hostileContentRange(_ value: String) async throws {
    let archive = try await Self.archive.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar.co", archive.combined)
    server.misbehave { $0.contentRange = value }
    for command in [["get", server.url("a.tar.co"), archive.files[0].path], ["ls", server.url("a.tar.co")]] {
      let result = try await CLI.run(command)
      #expect(result.status == 1, "\(command[0]): \(result.stderr)")
      #expect(result.stderr.contains("Content-Range"), "\(result.stderr)")
      #expect(Self.errorLines(result).count == 1, "\(result.stderr)")
    }
  }

  @Test("a trickling server is cut off by --timeout")
  func trickle() async throws {
    let archive = try await Self.archive.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar.co", archive.combined)
    server.misbehave { $0.dripMilliseconds = 200 }
    // The head comes at once, then a byte every 200 ms (the first answer alone would take
    // hours): the timeout must cut a response that keeps arriving. It is 5 s so that a loaded
    // machine still delivers the head in time, which "no complete response" checks.
    let result = try await CLI.run(["get", server.url("a.tar.co"), archive.files[0].path, "--timeout", "5", "--attempts", "1"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("no complete response"), "\(result.stderr)")
  }

  @Test("403 and 503 on a guessed URL.index are reported, not taken for a missing index")
  func guessedSidecarErrors() async throws {
    let archive = try await Self.archive.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar", archive.tar)
    for status in [403, 503] {
      server.misbehave { $0.statusForPath["/a.tar.index"] = status }
      let result = try await CLI.run(["get", server.url("a.tar"), archive.files[1].path, "--attempts", "2"])
      #expect(result.status == 1)
      #expect(result.stderr.contains("a.tar.index"), "\(result.stderr)")
      #expect(result.stderr.contains("HTTP \(status)"), "\(result.stderr)")
    }
  }

  @Test("a failed data read names the entry and its byte offset, and keeps the HTTP status")
  func dataReadFailureNamesTheEntry() async throws {
    let archive = try await Self.archive.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar", archive.tar)
    server.put("a.tar.index", archive.index)
    server.misbehave { $0.statusForPath["/a.tar"] = 500 }
    let file = archive.files[9]
    let offset = try #require(try await Cotar.open(tar: MemorySource(archive.tar), index: MemorySource(archive.index)).entry(file.path)).offset
    let single = try await CLI.run(["get", server.url("a.tar"), file.path, "--attempts", "1"])
    #expect(single.status == 1)
    #expect(Self.errorLines(single).count == 1, "\(single.stderr)")
    #expect(
      single.stderr.contains("\(server.url("a.tar")), entry '\(file.path)', byte \(offset): the server failed (HTTP 500"),
      "\(single.stderr)")
    let many = try await CLI.run(
      ["get", server.url("a.tar"), file.path, archive.files[10].path, "-o", ScratchSpace.path("read-error"), "--attempts", "1"])
    #expect(many.status == 1)
    #expect(many.stderr.contains("entry '\(file.path)', byte \(offset):"), "\(many.stderr)")
    #expect(many.stderr.contains("HTTP 500"), "\(many.stderr)")
  }

  @Test("a .tar URL with a query gets no guessed sidecar and asks for --index")
  func presignedTar() async throws {
    let archive = try await Self.archive.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar", archive.tar)
    server.put("a.tar.index", archive.index)
    let url = server.url("a.tar") + "?X-Amz-Signature=abc"
    let result = try await CLI.run(["get", url, archive.files[1].path])
    #expect(result.status == 1)
    #expect(result.stderr.contains("--index"), "\(result.stderr)")
    #expect(!server.log.contains { $0.path.contains(".index") })
    #expect(!result.stderr.contains("abc"))
    let explicit = try await CLI.run(["get", url, archive.files[1].path, "--index", server.url("a.tar.index") + "?sig=other"])
    #expect(explicit.status == 0, "\(explicit.stderr)")
    #expect(Array(explicit.stdout) == archive.files[1].bytes)
  }

  @Test("--max-whole-object raises the limit for servers without range support")
  func maxWholeObject() async throws {
    let archive = try await Self.archive.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar.co", archive.combined)
    server.misbehave { $0.ignoreRange = true }
    let file = archive.files[7]
    let refused = try await CLI.run(["get", server.url("a.tar.co"), file.path, "--max-whole-object", "1000"])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("--max-whole-object"), "\(refused.stderr)")
    let allowed = try await CLI.run(["get", server.url("a.tar.co"), file.path, "--max-whole-object", "10000000"])
    #expect(allowed.status == 0, "\(allowed.stderr)")
    #expect(Array(allowed.stdout) == file.bytes)
  }

  @Test("a redirect is followed once and counted in --stats")
  func redirect() async throws {
    let archive = try await Self.archive.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("real.tar.co", archive.combined)
    server.misbehave { $0.redirects["/alias.tar.co"] = server.url("real.tar.co") }
    let paths = archive.files.prefix(3).map(\.path)
    let result = try await CLI.run(["get", server.url("alias.tar.co")] + paths + ["--stats"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(server.log.filter { $0.path == "/alias.tar.co" }.count == 1)
    #expect(result.stderr.contains(", 1 redirect\n"), "\(result.stderr)")
    #expect(result.stderr.contains("stats: total: \(server.requestCount) requests"), "\(result.stderr)")
  }

  @Test("https: an untrusted certificate is one clean line; --cacert trusts it; --insecure warns")
  func tls() async throws {
    let archive = try await Self.archive.value
    let server = try await RangeServer.start(tls: (CLI.fixture("tls/server.pem"), CLI.fixture("tls/server.key")))
    defer { Task { await server.stop() } }
    server.put("a.tar.co", archive.combined)
    let file = archive.files[5]
    let untrusted = try await CLI.run(["get", server.url("a.tar.co"), file.path])
    #expect(untrusted.status == 1)
    #expect(Self.errorLines(untrusted).count == 1, "\(untrusted.stderr)")
    #expect(untrusted.stderr.contains("TLS certificate not trusted"), "\(untrusted.stderr)")
    let trusted = try await CLI.run(["get", server.url("a.tar.co"), file.path, "--cacert", CLI.fixture("tls/ca.pem")])
    #expect(trusted.status == 0, "\(trusted.stderr)")
    #expect(Array(trusted.stdout) == file.bytes)
    let insecure = try await CLI.run(["get", server.url("a.tar.co"), file.path, "--insecure"])
    #expect(insecure.status == 0, "\(insecure.stderr)")
    #expect(insecure.stderr.contains("warning: --insecure"))
    #expect(Array(insecure.stdout) == file.bytes)
  }
}
