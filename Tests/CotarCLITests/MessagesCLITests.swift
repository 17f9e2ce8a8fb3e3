import CotarTestSupport
import Foundation
import Testing

/// Issue 18 §6–§10: messages that lead somewhere, in one style. Each test pins a wording.
@Suite("CLI messages", .timeLimit(.minutes(5)))
struct MessagesCLITests {
  /// A directory with `tree/a.txt` (5 bytes).
  static func workspace() throws -> URL {
    let directory = try CLI.temporaryDirectory()
    let tree = directory.appendingPathComponent("tree")
    try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
    try Data("alpha".utf8).write(to: tree.appendingPathComponent("a.txt"))
    return directory
  }

  @Test("every error starts with 'cotar:', ArgumentParser's usage errors too; none with 'Error:'")
  func onePrefix() async throws {
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let usage = try await CLI.run(["get"])
    #expect(usage.status == 64)
    #expect(usage.stderr.hasPrefix("cotar: Missing expected argument '<archive>'"), "\(usage.stderr)")
    let range = try await CLI.run(["get", "x.tar.co", "a", "--concurrency", "0"])
    #expect(range.status == 64)
    #expect(range.stderr.hasPrefix("cotar: --concurrency must be from 1 to 1024, got 0"), "\(range.stderr)")
    let missing = try await CLI.run(["info", directory.appendingPathComponent("none.tar.co").path])
    #expect(missing.status == 1)
    #expect(missing.stderr.hasPrefix("cotar: "), "\(missing.stderr)")
    for result in [usage, range, missing] { #expect(!result.stderr.contains("Error:"), "\(result.stderr)") }
    let help = try await CLI.run(["get", "--help"])
    #expect(help.status == 0)
    #expect(help.stdoutText.contains("USAGE: cotar get"))
  }

  @Test("counts have the right plural: 1 member, 1 entry, 1 filled slot")
  func plurals() async throws {
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.run(["tar", "one.tar.co", "--base", "tree", "a.txt"], in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    #expect(made.stderr.contains("one.tar.co (.tar.co): 1 member, 5 data bytes, index 1 entry in "), "\(made.stderr)")
    let validated = try await CLI.run(["validate", "one.tar.co"], in: directory)
    #expect(validated.stdoutText.hasPrefix("valid: 1 entry, 1 filled slot"), "\(validated.stdoutText)")
  }

  @Test("a missing index shows NUL bytes as \\0")
  func nulBytes() async throws {
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(try await CLI.run(["tar", "plain.tar", "--base", "tree", "a.txt"], in: directory).status == 0)
    let result = try await CLI.run(["info", "plain.tar"], in: directory)
    #expect(result.status == 1)
    #expect(result.stderr.contains("found '\\0\\0\\0' instead of 'COT'"), "\(result.stderr)")
  }

  @Test("tar infers the layout from the name (.co: index appended), --co/--no-co override, '-' is standard output")
  func tarLayout() async throws {
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(try await CLI.run(["tar", "by-name.tar.co", "--base", "tree", "a.txt"], in: directory).status == 0)
    #expect(try await CLI.run(["info", "by-name.tar.co"], in: directory).status == 0)
    #expect(try await CLI.run(["tar", "plain.tar", "--base", "tree", "a.txt"], in: directory).status == 0)
    #expect(try await CLI.run(["info", "plain.tar"], in: directory).status != 0)
    #expect(try await CLI.run(["tar", "forced.tar", "--co", "--base", "tree", "a.txt"], in: directory).status == 0)
    #expect(try await CLI.run(["info", "forced.tar"], in: directory).status == 0)
    #expect(try await CLI.run(["tar", "plain.tar.co", "--no-co", "--base", "tree", "a.txt"], in: directory).status == 0)
    #expect(try await CLI.run(["info", "plain.tar.co"], in: directory).status != 0)

    let piped = try await CLI.shell("'\(CLI.executable.path)' tar - --base tree a.txt > piped.tar", in: directory)
    #expect(piped.status == 0, "\(piped.stderr)")
    #expect(piped.stderr.contains("standard output: 1 member"), "\(piped.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("-").path))
    let plain = try Data(contentsOf: directory.appendingPathComponent("plain.tar"))
    #expect(try Data(contentsOf: directory.appendingPathComponent("piped.tar")) == plain)
    let refused = try await CLI.run(["tar", "-", "--index", "--base", "tree", "a.txt"], in: directory)
    #expect(refused.status == 64)
    #expect(refused.stderr.contains("cannot go with '-' (standard output)"), "\(refused.stderr)")
  }

  @Test("get -o EXISTING_DIR says what works instead")
  func getIntoDirectory() async throws {
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(try await CLI.run(["tar", "one.tar.co", "--base", "tree", "a.txt"], in: directory).status == 0)
    let result = try await CLI.run(["get", "one.tar.co", "a.txt", "-o", "tree"], in: directory)
    #expect(result.status == 1)
    #expect(
      result.stderr.contains(
        "'tree' is a directory; with one PATH, -o names the output file: use -o tree/NAME, or give several PATHs (or --paths-from) to write each entry under it, or cotar extract ARCHIVE PATH -o tree"
      ), "\(result.stderr)")
  }

  @Test("--base help shows its default once")
  func baseHelp() async throws {
    let help = try await CLI.run(["tar", "--help"])
    #expect(help.stdoutText.components(separatedBy: "(default: .)").count == 2, "\(help.stdoutText)")
  }

  @Test("serve: a port clash names the port; --no-list announces no /v1/list; IPv6 in brackets")
  func serveMessages() async throws {
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(try await CLI.run(["tar", "one.tar.co", "--base", "tree", "a.txt"], in: directory).status == 0)
    let first = try await ServeProcess.start(["one.tar.co", "--no-list"], in: directory)
    defer { first.stop() }
    #expect(first.log.contains("(files at /v1/file/…, listing off; at most 10000 connections)"), "\(first.log)")
    #expect(!first.log.contains("/v1/list"), "\(first.log)")
    let clash = try await CLI.run(["serve", "one.tar.co", "--port", String(first.port)], in: directory)
    #expect(clash.status == 1)
    #expect(
      clash.stderr.contains("cotar: cannot listen on 127.0.0.1:\(first.port): the port is already in use; pick another with --port"),
      "\(clash.stderr)")
    // IPv6: only where the loopback ::1 exists; the address is printed in brackets.
    let six = try await CLI.shell("timeout 3 '\(CLI.executable.path)' serve one.tar.co --host ::1 --port 0 2>&1", in: directory)
    if six.stdoutText.contains("[CotarCLI] listening on") {
      #expect(six.stdoutText.contains("listening on http://[::1]:"), "\(six.stdoutText)")
    }
  }
}
