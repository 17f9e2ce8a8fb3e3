import AsyncHTTPClient
import CotarCore
import CotarHTTP
import CotarTestSupport
import Testing

/// Answers no server should send, dead endpoints, slow bodies and redirects: every one ends
/// in a `CotarError` (never a trap or a hang), quickly when retrying cannot help.
@Suite(.timeLimit(.minutes(5))) struct HostileServerTests {
  /// Content-Range values that overflow or are impossible.
  static let hostileContentRanges = [
    "bytes 0-18446744073709551615/*",
    "bytes 0-9223372036854775807/18446744073709551615",
    "bytes 1-18446744073709551615/*",
    "bytes 0-9223372036854775808/*",
    "bytes 0-99999999999999999999999/*",
    "bytes 0-15/18446744073709551615",
    "bytes 18446744073709551615-18446744073709551615/*",
    "bytes 0-15/0",
    "bytes -1-15/100",
    "bytes 15-0/100",
    "bytes 0-15",
    "garbage",
  ]

  @Test(arguments: hostileContentRanges)
  func hostileContentRangeGivesRangeNotHonoured(_ value: String) async throws {
    let (server, source) = try await serve("blob", Array(repeating: 1, count: 4096))
    defer { Task { await server.stop() } }
    server.misbehave { $0.contentRange = value }
    let read = await cotarError { _ = try await source.read(0..<16) }
    #expect(read?.code == .rangeNotHonoured, "\(value): \(String(describing: read))")
    let suffix = await cotarError { _ = try await source.readSuffix(count: 16) }
    #expect(suffix?.code == .rangeNotHonoured, "\(value): \(String(describing: suffix))")
    let prefix = await cotarError { _ = try await source.readPrefix(count: 16) }
    #expect(prefix?.code == .rangeNotHonoured, "\(value): \(String(describing: prefix))")
    let open = await cotarError { _ = try await Cotar.open(source) }
    #expect(open?.code == .rangeNotHonoured, "\(value): \(String(describing: open))")
    #expect(server.log.allSatisfy { $0.status == 206 })
  }

  @Test func hugeContentLengthOnAWholeAnswerIsRefusedUnread() async throws {
    let (server, source) = try await serve("blob", Array(repeating: 1, count: 4096))
    defer { Task { await server.stop() } }
    server.misbehave {
      $0.ignoreRange = true
      $0.contentLength = "9223372036854775807"
    }
    let error = await cotarError { _ = try await source.read(0..<16) }
    #expect(error?.code == .rangeNotHonoured)
    #expect(error?.message.contains("--max-whole-object") == true)
  }

  @Test func wholeObjectLimitIsConfigurable() async throws {
    let bytes = Array(repeating: UInt8(3), count: 100_000)
    let (server, small) = try await serve("blob", bytes, configuration: quickConfiguration(unranged: 50_000))
    defer { Task { await server.stop() } }
    server.misbehave { $0.ignoreRange = true }
    let error = await cotarError { _ = try await small.read(0..<16) }
    #expect(error?.code == .rangeNotHonoured)
    #expect(error?.message.contains("50000-byte limit") == true)
    let large = try HTTPRangeSource(url: server.url("blob"), configuration: quickConfiguration(unranged: 200_000))
    #expect(try await large.read(99_990..<100_000) == Array(repeating: 3, count: 10))
  }

  @Test func tricklingBodyIsCutOffByTheRequestDeadline() async throws {
    var configuration = quickConfiguration(attempts: 2)
    configuration.requestTimeout = .milliseconds(400)
    let (server, source) = try await serve("blob", Array(repeating: 9, count: 1000), configuration: configuration)
    defer { Task { await server.stop() } }
    server.misbehave { $0.dripMilliseconds = 100 }
    let error = await cotarError { _ = try await source.read(0..<500) }
    #expect(error?.code == .io)
    #expect(error?.message.contains("no complete response") == true)
    #expect(error?.message.contains("after 2 tries") == true)
    #expect((error?.cause as? HTTPTransportFailure)?.kind == .timeout)
    // The client tried twice; on a loaded machine the second try can time out before the
    // server has read its request, so the server counts one or two.
    #expect((1...2).contains(server.requestCount))
    #expect(source.statistics.bytes < 500)  // cut off long before the 50 s the drip needs
  }

  @Test func refusedConnectionFailsAtOnceWithOneCleanLine() async throws {
    let client = try HTTPClientSettings(connectTimeout: .seconds(5)).makeClient()
    defer { Task { try? await client.shutdown() } }
    let source = try HTTPRangeSource(url: "http://user:pw@127.0.0.1:1/x.tar.co?sig=abc", client: client)
    let error = await cotarError { _ = try await Cotar.open(source) }
    #expect(error?.code == .io)
    #expect((error?.cause as? HTTPTransportFailure)?.kind == .connectionRefused)
    #expect(source.statistics.requests == 1)  // not retried: fails at once
    #expect(source.statistics.retries == 0)
    let text = error?.description ?? ""
    #expect(text == "http://127.0.0.1:1/x.tar.co: cannot connect (connection refused)")
  }

  @Test func transientAndFinalStatuses() async throws {
    let (server, source) = try await serve("blob", Array(repeating: 5, count: 100))
    defer { Task { await server.stop() } }
    server.misbehave { $0.statusForPath["/blob"] = 408 }
    let timeout = await cotarError { _ = try await source.read(0..<10) }
    #expect(timeout?.httpStatus?.status == 408)
    #expect(server.requestCount == 4)
    server.resetLog()
    server.misbehave { $0.statusForPath["/blob"] = 501 }
    let final = await cotarError { _ = try await source.read(0..<10) }
    #expect(final?.code == .httpStatus)
    #expect(final?.httpStatus?.status == 501)
    #expect(server.requestCount == 1)
    server.resetLog()
    server.misbehave { $0.statusForPath["/blob"] = 403 }
    let denied = await cotarError { _ = try await source.read(0..<10) }
    #expect(denied?.description.contains("access denied; check credentials (--header) (HTTP 403 Forbidden)") == true)
    #expect(denied?.meansObjectAbsent == false)
    #expect(server.requestCount == 1)
  }

  @Test func redirectIsResolvedOnceAndCounted() async throws {
    let archive = try await Fixtures.large.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("v1/big.tar.co", archive.combined)
    server.misbehave {
      $0.redirects["/latest.tar.co"] = "/v1/big.tar.co"
      $0.noETags = true
    }
    let source = try HTTPRangeSource(url: server.url("latest.tar.co"), configuration: quickConfiguration())
    let cotar = try await Cotar.open(source)
    for file in archive.files.prefix(5) { #expect(try await cotar.read(file.path) == file.bytes) }
    #expect(server.log.filter { $0.path == "/latest.tar.co" }.count == 1)
    #expect(source.statistics.redirects == 1)
    #expect(source.statistics.requests == server.requestCount)

    // The target moves: the source goes back to the original URL and follows the new redirect.
    server.put("v2/big.tar.co", archive.combined)
    server.misbehave {
      $0.redirects["/latest.tar.co"] = "/v2/big.tar.co"
      $0.statusForPath["/v1/big.tar.co"] = 404
    }
    server.resetLog()
    let file = archive.files[4000]
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(server.log.map(\.path).suffix(3) == ["/v1/big.tar.co", "/latest.tar.co", "/v2/big.tar.co"])
    #expect(source.statistics.redirects == 2)
    server.resetLog()
    #expect(try await cotar.read(archive.files[4001].path) == archive.files[4001].bytes)
    #expect(server.log.allSatisfy { $0.path == "/v2/big.tar.co" })
  }
}
