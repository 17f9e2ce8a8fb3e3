import CotarTestSupport
import Foundation
import Testing

/// `cotar extract` on tars where paths repeat or hard links are not plain links to the last
/// file: the tree must be the one GNU tar extracts from the same tar.
@Suite("cotar extract: repeated paths and hard links, against GNU tar", .timeLimit(.minutes(5)))
struct ExtractLinksCLITests {
  /// A scratch directory holding `mk.py` (``ShadowedPathCLITests/maker``).
  static func workspace() throws -> URL {
    let directory = try CLI.temporaryDirectory()
    try ShadowedPathCLITests.maker.write(to: directory.appendingPathComponent("mk.py"), atomically: true, encoding: .utf8)
    return directory
  }

  /// `cotar create TAR`, `cotar extract TAR.co -o cotar ARGS` and `tar -xf TAR -C gnu`; returns
  /// the extract result and both trees (``ExtractCLITests/describe(_:)``).
  static func extractBoth(
    _ tar: String, in directory: URL, _ arguments: [String] = []
  ) async throws -> (result: CommandResult, cotar: [String: String], gnu: [String: String]) {
    let created = try await CLI.run(["create", tar], in: directory)
    #expect(created.status == 0, "\(created.stderr)")
    let result = try await CLI.run(["extract", tar + ".co", "-o", "cotar"] + arguments, in: directory)
    let gnu = directory.appendingPathComponent("gnu")
    try FileManager.default.createDirectory(at: gnu, withIntermediateDirectories: true)
    let unpacked = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["-xf", tar, "-C", gnu.path], in: directory)
    #expect(unpacked.status == 0, "\(unpacked.stderr)")
    return (
      result, try ExtractCLITests.describe(directory.appendingPathComponent("cotar").path),
      try ExtractCLITests.describe(gnu.path)
    )
  }

  /// The contents of `name` under `root`.
  static func text(_ root: URL, _ name: String) -> String? {
    (try? Data(contentsOf: root.appendingPathComponent(name))).map { String(decoding: $0, as: UTF8.self) }
  }

  @Test("a hard link to a file replaced later is a copy of the version it named, not a link to the newest")
  func hardLinkToReplacedFile() async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(try await CLI.shell("python3 mk.py 2.tar f:a:v1 l:h:a f:a:v2-new l:k:a", in: directory).status == 0)
    let (result, cotar, gnu) = try await Self.extractBoth("2.tar", in: directory)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(cotar == gnu)
    let out = directory.appendingPathComponent("cotar")
    #expect(Self.text(out, "h") == "v1")
    #expect(Self.text(out, "a") == "v2-new")
    #expect(Self.text(out, "k") == "v2-new")
    let a = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("a").path)
    let k = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("k").path)
    #expect(a[.systemFileNumber] as? Int == k[.systemFileNumber] as? Int, "k links the newest a: a hard link")
    #expect(result.stderr.contains("extracted 2 files, 0 directories and 1 link"), "\(result.stderr)")
    // A link whose target is not extracted is a copy of its data.
    let only = try await CLI.run(["extract", "2.tar.co", "h", "k", "-o", "only"], in: directory)
    #expect(only.status == 0, "\(only.stderr)")
    #expect(Self.text(directory.appendingPathComponent("only"), "h") == "v1")
    #expect(Self.text(directory.appendingPathComponent("only"), "k") == "v2-new")
  }

  @Test("a hard link whose target fails to be written is still written, as a copy")
  func hardLinkToFailedTarget() async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(try await CLI.shell("python3 mk.py 3.tar f:a:data l:h:a", in: directory).status == 0)
    #expect(try await CLI.run(["create", "3.tar"], in: directory).status == 0)
    // `a` exists already: without --force it is refused, and h gets the data anyway.
    let out = directory.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    try Data("old".utf8).write(to: out.appendingPathComponent("a"))
    let result = try await CLI.run(["extract", "3.tar.co", "-o", "out"], in: directory)
    #expect(result.status == 1, "\(result.stderr)")
    #expect(result.stderr.contains("1 member failed or skipped"), "\(result.stderr)")
    #expect(!result.stderr.contains("its target was not extracted"), "\(result.stderr)")
    #expect(Self.text(out, "a") == "old")
    #expect(Self.text(out, "h") == "data")
  }

  @Test("a hard link to a symlink (GNU tar, ln -P) is extracted as that symlink; ls, stat and get agree")
  func hardLinkToSymlink() async throws {
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      "mkdir t && echo d > t/target && ln -s target t/sl && ln -P t/sl t/sl2 && mkdir t/sub && ln -P t/sl t/sub/sl3 && tar -cf h.tar -C t .",
      in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let (result, cotar, gnu) = try await Self.extractBoth("h.tar", in: directory)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(cotar == gnu)
    // GNU tar stores the first of the three names it meets as the symlink, the others as
    // hard links to it (directory order decides which): all three are links to `target`.
    #expect(cotar["sl"] == "link -> target")
    #expect(cotar["sl2"] == "link -> target")
    #expect(cotar["sub/sl3"] == "link -> target")  // dangling there, as GNU tar makes it
    var kinds: [String] = []
    for name in ["./sl", "./sl2", "./sub/sl3"] {
      let stat = try await CLI.run(["stat", "h.tar.co", name], in: directory)
      #expect(stat.status == 0, "\(stat.stderr)")
      #expect(stat.stdoutText.contains("size: 0"), "\(stat.stdoutText)")
      kinds += stat.stdoutText.split(separator: "\n").filter { $0.hasPrefix("kind: ") }.map(String.init)
      if name != "./sub/sl3" {
        let got = try await CLI.run(["get", "h.tar.co", name], in: directory)
        #expect(got.status == 0, "\(name): \(got.stderr)")
        #expect(got.stdoutText == "d\n", "\(name)")
      }
    }
    #expect(kinds.sorted() == ["kind: hardlink", "kind: hardlink", "kind: symlink"], "\(kinds)")
  }

  @Test("f and ./f in one tar are one output: the later member wins, with or without --force")
  func samePathTwoSpellings() async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let directory = try Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(
      try await CLI.shell("python3 mk.py 4.tar f:f:v1 f:./f:v2 f:./d/g:old f:d//g:new f:./x:first f:x:last", in: directory).status == 0)
    let (result, cotar, gnu) = try await Self.extractBoth("4.tar", in: directory)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(cotar == gnu)
    let out = directory.appendingPathComponent("cotar")
    #expect(Self.text(out, "f") == "v2")
    #expect(Self.text(out, "d/g") == "new")
    #expect(Self.text(out, "x") == "last")
    #expect(result.stderr.contains("extracted 3 files"), "\(result.stderr)")
    let forced = try await CLI.run(["extract", "4.tar.co", "-o", "forced", "--force"], in: directory)
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(Self.text(directory.appendingPathComponent("forced"), "f") == "v2")
  }
}
