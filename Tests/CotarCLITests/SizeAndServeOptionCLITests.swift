import CotarTestSupport
import Foundation
import Testing

/// Byte-count options take units as `--shard-size` does; `cotar serve` refuses an empty
/// `--cors`, explains a zero timeout and an unresolvable `--host` in words.
@Suite("CLI size options and serve option messages", .timeLimit(.minutes(5)))
struct SizeAndServeOptionCLITests {
  @Test("--coalesce-gap, --max-whole-object and --chunk-size take sizes with units; a bad size is a usage error")
  func sizesWithUnits() async throws {
    let archive = CLI.fixture("gnu-basic.tar.co")
    let listed = try await CLI.run(["ls", archive, "-r", "--files"])
    let path = try #require(listed.stdoutText.split(separator: "\n").first.map(String.init), "\(listed.stderr)")
    for options in [["--coalesce-gap", "1MiB"], ["--coalesce-gap", "4096"], ["--max-whole-object", "16MiB"]] {
      let result = try await CLI.run(["get", archive, path] + options)
      #expect(result.status == 0, "\(options): \(result.stderr)")
    }
    let extracted = try await CLI.run(["extract", archive, "-o", try CLI.temporaryDirectory().appendingPathComponent("out").path, "--coalesce-gap", "128KiB"])
    #expect(extracted.status == 0, "\(extracted.stderr)")
    for options in [["--coalesce-gap", "lots"], ["--coalesce-gap", "2GiB"], ["--max-whole-object", "2TiB"]] {
      let result = try await CLI.run(["get", archive, path] + options)
      #expect(result.status == 64, "\(options): \(result.stderr)")
    }
    let chunk = try await CLI.run(["serve", archive, "--chunk-size", "1KiB"])
    #expect(chunk.status == 64)
    #expect(chunk.stderr.contains("--chunk-size must be from 4KiB to 64MiB, got 1024 bytes"), "\(chunk.stderr)")
  }

  @Test("serve: an empty --cors is a usage error; --idle-timeout 0 says 'more than 0'; an unknown --host is named in words")
  func serveOptionMessages() async throws {
    let archive = CLI.fixture("gnu-basic.tar.co")
    let cors = try await CLI.run(["serve", archive, "--cors", ""])
    #expect(cors.status == 64)
    #expect(cors.stderr.contains("--cors takes an origin"), "\(cors.stderr)")
    let idle = try await CLI.run(["serve", archive, "--idle-timeout", "0"])
    #expect(idle.status == 64)
    #expect(idle.stderr.contains("--idle-timeout must be more than 0 and at most 86400 seconds"), "\(idle.stderr)")
    let host = try await CLI.run(["serve", archive, "--host", "bogus.invalid", "--port", "0", "--quiet"])
    #expect(host.status == 1)
    #expect(host.stderr.hasSuffix("cotar: cannot listen on bogus.invalid:0: the host name 'bogus.invalid' does not resolve; give --host an IP address or a name this machine resolves\n"), "\(host.stderr)")
    #expect(!host.stderr.contains("SocketAddressError"))
  }

  @Test("serve: two archives with the same URL name, or a reserved one, are a usage error before any archive is opened")
  func duplicateNamesBeforeOpening() async throws {
    let archive = CLI.fixture("gnu-basic.tar.co")
    try await withRangeServer { server in
      try await server.putFile("gnu-basic.tar.co", path: archive)
      let remote = server.url("gnu-basic.tar.co") + "?token=secret"
      let result = try await CLI.run(["serve", archive, remote, "--port", "0", "--quiet"])
      #expect(result.status == 64, "\(result.stderr)")
      #expect(
        result.stderr.contains(
          "'\(archive)' and '\(server.url("gnu-basic.tar.co"))' would both be served as /v1/gnu-basic.tar.co/"),
        "\(result.stderr)")
      #expect(!result.stderr.contains("secret"))
      #expect(server.log.isEmpty, "the remote archive was opened: \(server.log)")
    }
    let reserved = try await CLI.run(["serve", archive, "/nowhere/list", "--port", "0", "--quiet"])
    #expect(reserved.status == 64, "\(reserved.stderr)")
    #expect(reserved.stderr.contains("'/nowhere/list' would be served under the name 'list'"), "\(reserved.stderr)")
  }
}
