import CotarTestSupport
import Foundation
import Testing

/// `cotar ls ARCHIVE PREFIX` and `--glob` when they match nothing, or name a file: reported
/// like `get` and `extract` (exit 1, "did you mean"), and a file listed as `tar -t NAME` does.
@Suite("CLI ls matching", .timeLimit(.minutes(5)))
struct ListMatchCLITests {
  /// `x.tar` written by GNU tar from `./sub/a.txt`, `./sub/deep/d.txt`, `./empty/` and
  /// `./file.txt` (names stored with `./`), and `x.tar.co` made from it.
  static func workspace() async throws -> URL {
    let directory = try CLI.temporaryDirectory()
    let source = directory.appendingPathComponent("src")
    try FileManager.default.createDirectory(
      at: source.appendingPathComponent("sub/deep"), withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: source.appendingPathComponent("empty"), withIntermediateDirectories: true)
    try Data("a".utf8).write(to: source.appendingPathComponent("sub/a.txt"))
    try Data("d".utf8).write(to: source.appendingPathComponent("sub/deep/d.txt"))
    try Data("file".utf8).write(to: source.appendingPathComponent("file.txt"))
    let tar = try await ProcessRunner.runDetached(
      "tar", ["-cf", "../x.tar", "--sort=name", "./sub", "./empty", "./file.txt"], in: source.path)
    #expect(tar.status == 0, "\(tar.stderr)")
    let made = try await CLI.run(["create", "x.tar"], in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    return directory
  }

  @Test("an unmatched PREFIX (with or without -r) or --glob is named on stderr with a did-you-mean hint; exit 1")
  func unmatchedIsReported() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let cases: [([String], String)] = [
      (["zzz"], "cotar: 'zzz' is not in x.tar.co\n"),
      (["zzz", "-r"], "cotar: 'zzz' is not in x.tar.co\n"),
      (["sub"], "cotar: 'sub' is not in x.tar.co; did you mean './sub'?\n"),
      (["sub/a.txt", "--long"], "cotar: 'sub/a.txt' is not in x.tar.co; did you mean './sub/a.txt'?\n"),
      (["--glob", "zzz*"], "cotar: no member of x.tar.co matches --glob 'zzz*'\n"),
      (["--glob", "sub/*"], "cotar: no member of x.tar.co matches --glob 'sub/*'; did you mean './sub/*'?\n"),
    ]
    for (arguments, message) in cases {
      let result = try await CLI.run(["ls", "x.tar.co"] + arguments, in: directory)
      #expect(result.status == 1, "\(arguments): \(result.stderr)")
      #expect(result.stderr == message, "\(arguments)")
      #expect(result.stdout.isEmpty, "\(arguments): \(result.stdoutText)")
    }
    // The same without a name table (the tar is scanned), and for a .tar with its sidecar.
    let scanned = try await CLI.run(["ls", "x.tar", "sub"], in: directory)
    #expect(scanned.status == 1)
    #expect(scanned.stderr.hasSuffix("cotar: 'sub' is not in x.tar; did you mean './sub'?\n"), "\(scanned.stderr)")
    // What does match still lists with exit 0: a directory, an empty directory, the top level.
    let listed = try await CLI.run(["ls", "x.tar.co", "./sub"], in: directory)
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdoutText == "./sub/a.txt\n./sub/deep/\n")
    let empty = try await CLI.run(["ls", "x.tar.co", "./empty"], in: directory)
    #expect(empty.status == 0 && empty.stdout.isEmpty && empty.stderr.isEmpty, "\(empty.stderr)")
  }

  @Test("ls ARCHIVE FILE lists that member, as GNU tar -t FILE does (with -r, --long, --files too)")
  func filePrefixListsTheMember() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    for path in ["./file.txt", "./sub/a.txt"] {
      let gnu = try await ProcessRunner.runDetached("tar", ["-tf", "x.tar", path], in: directory.path)
      #expect(gnu.status == 0, "\(gnu.stderr)")
      let ours = try await CLI.run(["ls", "x.tar.co", path], in: directory)
      #expect(ours.status == 0, "\(ours.stderr)")
      #expect(ours.stdoutText == "\(path)\n")
      #expect(ours.stdout == gnu.stdout, "\(ours.stdoutText) vs \(gnu.stdoutText)")
    }
    #expect(try await CLI.run(["ls", "x.tar.co", "./file.txt", "-r", "--files"], in: directory).stdoutText == "./file.txt\n")
    let long = try await CLI.run(["ls", "x.tar.co", "./file.txt", "--long"], in: directory)
    #expect(long.status == 0)
    #expect(long.stdoutText.hasPrefix("-rw"), "\(long.stdoutText)")
    #expect(long.stdoutText.hasSuffix("\t4\t\(long.stdoutText.split(separator: "\t")[2])\t./file.txt\n"), "\(long.stdoutText)")
  }
}
