import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// Secrets a user puts in an archive URL (`user:password@`, a presigned query) or in
/// `--header` never reach a message, and headers that cannot be sent are usage errors.
@Suite("cotar messages and --header checks", .timeLimit(.minutes(5)))
struct RedactionCLITests {
  /// Every path-level message of get, ls, extract and stat names the URL without its user
  /// information and query (README "Remote archives").
  @Test("messages about paths in a URL with user:secret@ and ?X-Amz-Signature=SECRET name it without them")
  func pathMessagesAreRedacted() async throws {
    try await NamesCLITests.withServedTree { _, server in
      // The credentials are really used (Basic user:secret), so every request is accepted.
      server.misbehave { $0.requiredAuthorization = "Basic dXNlcjpzZWNyZXQ=" }
      let shown = server.url("tree.tar.co")
      let secretURL = "http://user:secret@" + shown.dropFirst("http://".count) + "?X-Amz-Credential=AKIA&X-Amz-Signature=SECRET"
      let output = try CLI.temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: output) }
      let runs: [(arguments: [String], says: String)] = [
        (["get", secretURL, "./tiles/59/nope.pbf"], "'./tiles/59/nope.pbf' is not in \(shown)"),
        (["get", secretURL, "./tiles/59"], "'./tiles/59' is a directory in \(shown); get reads files (use cotar extract ARCHIVE"),
        (["get", secretURL, "tiles/59/39.pbf"], "is not in \(shown); did you mean './tiles/59/39.pbf'?"),
        (["ls", secretURL, "./nope"], "'./nope' is not in \(shown)"),
        (["ls", secretURL, "--glob", "zz*"], "no member of \(shown) matches --glob 'zz*'"),
        (["extract", secretURL, "./nope", "-o", output.path], "'./nope' is not in \(shown)"),
        (["extract", secretURL, "--glob", "zz*", "-o", output.path], "no member of \(shown) matches --glob 'zz*'"),
        (["stat", secretURL, "./nope"], shown),
      ]
      for run in runs {
        let result = try await CLI.run(run.arguments + ["--stats"])
        #expect(result.status == 1, "\(run.arguments): \(result.stderr)")
        #expect(result.stderr.contains(run.says), "\(run.arguments): \(result.stderr)")
        #expect(result.stderr.contains("stats: \(shown): "), "\(run.arguments): \(result.stderr)")
        #expect(!result.stderr.lowercased().contains("secret"), "\(run.arguments): \(result.stderr)")
        #expect(!result.stderr.contains("AKIA"), "\(run.arguments): \(result.stderr)")
      }
      #expect(server.log.allSatisfy { $0.status != 401 })
    }
  }

  @Test("an --endpoint-url with user information is refused for that reason, without printing the password")
  func endpointWithUserInformation() async throws {
    for endpoint in ["http://u:secret@localhost", "http://u:secret@127.0.0.1:9", "https://u:secret@s3.example.org/"] {
      let result = try await CLI.run(["get", "s3://bucket/a.tar.co", "x", "--endpoint-url", endpoint, "--no-sign-request"])
      #expect(result.status == 1, "\(endpoint): \(result.stderr)")
      #expect(result.stderr.contains("the S3 endpoint must not contain user information"), "\(endpoint): \(result.stderr)")
      #expect(!result.stderr.contains("secret"), "\(endpoint): \(result.stderr)")
    }
  }

  /// Header names must be RFC 9110 tokens; values hold no CR, LF, NUL or other control
  /// character; headers Cotar sets itself cannot be given. Each is a usage error (64) that
  /// names the header and sends nothing, for every command that takes --header.
  @Test("--header with an invalid name or value, or one Cotar sets itself, is a usage error naming it")
  func refusedHeaders() async throws {
    try await withRangeServer { server in
      server.put("a.tar.co", try await RemoteCLITests.small.value.combined)
      let url = server.url("a.tar.co")
      let output = try CLI.temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: output) }
      let headers: [(header: String, names: String)] = [
        ("Bad Name: v", "header name \"Bad Name\" is not a valid HTTP field name"),
        ("X-A: a\rb", "the value of header \"X-A\" contains CR, LF, NUL"),
        ("X-Token: secret\nX-Evil: 1", "the value of header \"X-Token\""),
        ("X-Esc: a\u{1B}[31mb", "the value of header \"X-Esc\""),  // (a NUL cannot be in an argument)
        ("If-Match: \"x\"", "header \"If-Match\" is set by Cotar itself"),
        ("range: bytes=0-1", "header \"range\" is set by Cotar itself"),
        ("Host: example.org", "header \"Host\" is set by Cotar itself"),
      ]
      for (header, names) in headers {
        let result = try await CLI.run(["get", url, "x", "--header", header, "--stats"])
        #expect(result.status == 64, "\(header.debugDescription): \(result.stderr)")
        #expect(result.stderr.contains("--header: \(names)"), "\(header.debugDescription): \(result.stderr)")
        #expect(!result.stderr.contains("secret"), "\(result.stderr)")
      }
      let commands: [[String]] = [
        ["ls", url], ["extract", url, "-o", output.path], ["stat", url, "x"], ["info", url], ["validate", url],
        ["serve", url, "--port", "0"], ["index", url, "-o", output.appendingPathComponent("i").path],
      ]
      for command in commands {
        let result = try await CLI.run(command + ["--header", "Bad Name: v"])
        #expect(result.status == 64, "\(command): \(result.stderr)")
        #expect(result.stderr.contains("\"Bad Name\""), "\(command): \(result.stderr)")
      }
      #expect(server.requestCount == 0)
      // A valid header (with obs-text and a tab) is still sent.
      let fine = try await CLI.run(["info", url, "--header", "X-Note: caf\u{E9}\tok"])
      #expect(fine.status == 0, "\(fine.stderr)")
    }
  }
}
