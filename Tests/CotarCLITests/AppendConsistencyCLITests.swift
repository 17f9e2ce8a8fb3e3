import CotarTestSupport
import Foundation
import Testing

/// `cotar append` on plain tars: `--index` writes what `cotar index` writes, and a tar changed
/// behind its sidecar (`tar --delete`) never gets members GNU tar does not see.
@Suite("cotar append: sidecars like cotar index, tars changed after indexing", .timeLimit(.minutes(5)))
struct AppendConsistencyCLITests {
  /// A directory with files `a` (1200 bytes), `b`, `c` and `n`, and `X.tar` of `a b c` by GNU tar.
  static func workspace() async throws -> URL {
    let directory = try CLI.temporaryDirectory()
    let made = try await CLI.shell(
      "set -e; head -c 1200 /dev/zero | tr '\\0' A > a; printf bbb > b; printf ccc > c; printf new > n; tar -cf X.tar a b c",
      in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    return directory
  }

  /// The member names `tar -tf` lists.
  static func gnuList(_ tar: String, in directory: URL) async throws -> String {
    let listed = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["-tf", tar], in: directory)
    #expect(listed.status == 0, "\(listed.stderr)")
    return listed.stdoutText
  }

  @Test("append --index on a plain tar writes X.tar.index and X.tar.names, byte-identical to cotar index after the append")
  func appendIndexWritesNames() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let appended = try await CLI.run(["append", "X.tar", "n", "--index"], in: directory)
    #expect(appended.status == 0, "\(appended.stderr)")
    #expect(appended.stderr.contains("(tar, new sidecar index)"), "\(appended.stderr)")
    #expect(appended.stderr.contains("name table of 4 paths"), "\(appended.stderr)")
    let names = directory.appendingPathComponent("X.tar.names").path
    #expect(FileManager.default.fileExists(atPath: names))
    #expect(try await CLI.run(["ls", "X.tar"], in: directory).stdoutText == "a\nb\nc\nn\n")
    #expect(try await CLI.run(["validate", "X.tar"], in: directory).stdoutText.contains("name table of 4 paths"))
    // cotar index of the same tar writes the same two files.
    let index = try Data(contentsOf: directory.appendingPathComponent("X.tar.index"))
    let table = try Data(contentsOf: URL(fileURLWithPath: names))
    #expect(try await CLI.run(["index", "X.tar", "--force"], in: directory).status == 0)
    #expect(try Data(contentsOf: directory.appendingPathComponent("X.tar.index")) == index)
    #expect(try Data(contentsOf: URL(fileURLWithPath: names)) == table)
    // --no-names skips the table, as for cotar index.
    #expect(try await CLI.shell("tar -cf Y.tar a", in: directory).status == 0)
    #expect(try await CLI.run(["append", "Y.tar", "b", "--index", "--no-names"], in: directory).status == 0)
    #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("Y.tar.index").path))
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("Y.tar.names").path))
  }

  @Test(
    "append after tar --delete: the stale sidecar is rebuilt with a warning, GNU tar and cotar see the same members",
    arguments: ["a", "b", "c"])
  func appendAfterDelete(deleted: String) async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(try await CLI.run(["index", "X.tar"], in: directory).status == 0)
    let deletion = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["--delete", "-f", "X.tar", deleted], in: directory)
    try #require(deletion.status == 0, "\(deletion.stderr)")
    let appended = try await CLI.run(["append", "X.tar", "n"], in: directory)
    #expect(appended.status == 0, "\(appended.stderr)")
    #expect(appended.stderr.contains("did not describe"), "\(appended.stderr)")
    let kept = ["a", "b", "c"].filter { $0 != deleted }
    #expect(try await Self.gnuList("X.tar", in: directory) == (kept + ["n"]).map { $0 + "\n" }.joined())
    #expect(try await CLI.run(["ls", "X.tar"], in: directory).stdoutText == (kept + ["n"]).map { $0 + "\n" }.joined())
    let validated = try await CLI.run(["validate", "X.tar"], in: directory)
    #expect(validated.status == 0, "\(validated.stdoutText)")
    #expect(try await CLI.run(["get", "X.tar", "n"], in: directory).stdoutText == "new")
    for name in kept {
      let expected = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
      #expect(try await CLI.run(["get", "X.tar", name], in: directory).stdoutText == expected, "\(name)")
    }
    let gone = try await CLI.run(["get", "X.tar", deleted], in: directory)
    #expect(gone.status != 0)
  }

  @Test("a .tar.co whose index no longer describes its tar is refused, untouched")
  func staleCombinedIsRefused() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    // The tar part of a .tar.co with member b deleted, followed by the original index and table.
    let script = """
      set -e
      cp X.tar orig.tar
      tar --delete -f X.tar b
      """
    #expect(try await CLI.run(["create", "X.tar", "-o", "orig.tar.co"], in: directory).status == 0)
    #expect(try await CLI.shell(script, in: directory).status == 0)
    let original = try Data(contentsOf: directory.appendingPathComponent("orig.tar.co"))
    let tarBytes = try Data(contentsOf: directory.appendingPathComponent("orig.tar"))
    let shifted = try Data(contentsOf: directory.appendingPathComponent("X.tar"))
    // Same tar length (GNU tar keeps its 10 KiB record), index and table bytes unchanged.
    try #require(shifted.count == tarBytes.count)
    var stale = shifted
    stale.append(original[tarBytes.count...])
    let path = directory.appendingPathComponent("stale.tar.co")
    try stale.write(to: path)
    let appended = try await CLI.run(["append", "stale.tar.co", "n"], in: directory)
    #expect(appended.status != 0)
    #expect(appended.stderr.contains("does not describe this tar"), "\(appended.stderr)")
    #expect(try Data(contentsOf: path) == stale)
  }
}
