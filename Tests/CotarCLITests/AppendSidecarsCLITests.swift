import CotarTestSupport
import Foundation
import Testing

/// The `X.tar.names` sidecar after `append` and `tar`: never left describing another build
/// than the index beside it (SPEC §9.2.4, §12.5); the owner of an appended archive.
@Suite("append and tar: sidecars in step, the archive's owner kept")
struct AppendSidecarsCLITests {
  private static func shell(_ script: String, in directory: URL) async throws {
    let result = try await CLI.shell(script, in: directory)
    #expect(result.status == 0, "\(script): \(result.stderr)")
  }

  @Test("an append stopped after its index was renamed leaves an older .names; the next append rebuilds it")
  func staleNamesAfterACrashAreRebuilt() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("set -e; mkdir in; for f in a b c d; do echo $f > in/$f; done; tar -cf t.tar -C in a", in: directory)
    #expect(try await CLI.run(["index", "t.tar"], in: directory).status == 0)
    let crashed = try await ProcessRunner.runDetached(
      CLI.executable.path, ["append", "t.tar", "--base", "in", "b", "c"], in: directory.path,
      environment: ["COTAR_FAIL_AT": "sidecar-renamed"])
    #expect(crashed.status == 86, "\(crashed.stderr)")
    let appended = try await CLI.run(["append", "t.tar", "--base", "in", "d"], in: directory)
    #expect(appended.status == 0, "\(appended.stderr)")
    #expect(appended.stderr.contains("(the name table does not match the index (members with data: 1 in the table, 3 in the index, or at other offsets)"), "\(appended.stderr)")
    #expect(appended.stderr.contains("rebuilt t.tar.index (and its name table) from a full scan"), "\(appended.stderr)")
    let listed = try await CLI.run(["ls", "-r", "t.tar"], in: directory)
    #expect(listed.stdoutText == "a\nb\nc\nd\n", "\(listed.stdoutText)")
    let validated = try await CLI.run(["validate", "t.tar"], in: directory)
    #expect(validated.status == 0, "\(validated.stdoutText)\(validated.stderr)")
  }

  @Test("append --no-names removes the .names the index no longer matches, and says so")
  func appendWithoutNamesRemovesTheOldTable() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("set -e; echo a > a; echo b > b; tar -cf t.tar a", in: directory)
    #expect(try await CLI.run(["index", "t.tar"], in: directory).status == 0)
    let appended = try await CLI.run(["append", "t.tar", "b", "--no-names"], in: directory)
    #expect(appended.status == 0, "\(appended.stderr)")
    #expect(appended.stderr.contains("removed t.tar.names"), "\(appended.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("t.tar.names").path))
    let validated = try await CLI.run(["validate", "t.tar"], in: directory)
    #expect(validated.status == 0, "\(validated.stdoutText)\(validated.stderr)")
    let listed = try await CLI.run(["ls", "-r", "t.tar"], in: directory)
    #expect(listed.stdoutText == "a\nb\n", "\(listed.stdoutText)")
  }

  @Test("tar --index --no-names refuses an existing .names without --force and removes it with --force")
  func tarWithoutNamesRefusesOrRemovesTheOldTable() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("set -e; echo a > a; echo b > b", in: directory)
    #expect(try await CLI.run(["tar", "-o", "t.tar", "--index", "a"], in: directory).status == 0)
    try await Self.shell("rm t.tar t.tar.index", in: directory)
    let refused = try await CLI.run(["tar", "-o", "t.tar", "--index", "--no-names", "a", "b"], in: directory)
    #expect(refused.status == 1, "\(refused.stderr)")
    #expect(refused.stderr.contains("t.tar.names: output exists: the name table of an earlier build"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("t.tar").path))
    let forced = try await CLI.run(["tar", "-o", "t.tar", "--index", "--no-names", "--force", "a", "b"], in: directory)
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(forced.stderr.contains("removed t.tar.names"), "\(forced.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("t.tar.names").path))
    let validated = try await CLI.run(["validate", "t.tar"], in: directory)
    #expect(validated.status == 0, "\(validated.stdoutText)\(validated.stderr)")
  }

  @Test("append keeps the archive's owner, group and mode (run as root), and its sidecar index's owner")
  func appendKeepsTheOwner() async throws {
    try #require(getuid() == 0, "only root can give a file to another user")
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell(
      "set -e; echo a > a; echo b > b; tar -cf t.tar a; \(CLI.executable.path) index t.tar; chown 65534:65534 t.tar t.tar.index; chmod 640 t.tar",
      in: directory)
    let appended = try await CLI.run(["append", "t.tar", "b"], in: directory)
    #expect(appended.status == 0, "\(appended.stderr)")
    let owners = try await CLI.shell("stat -c '%u:%g %a' t.tar && stat -c '%u:%g' t.tar.index", in: directory)
    #expect(owners.stdoutText == "65534:65534 640\n65534:65534\n", "\(owners.stdoutText)")
  }
}
