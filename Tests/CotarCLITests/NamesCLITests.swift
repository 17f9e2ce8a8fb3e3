import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// The name table end to end: real tars from GNU tar, `cotar create`/`index`/`tar`/`append`,
/// tar tools still listing them, and `ls`/`stat`/`get` locally and over a real HTTP server.
@Suite("cotar name table", .timeLimit(.minutes(5)))
struct NamesCLITests {
  /// Runs `body` with the test tree as a `.tar.co` (with its name table) on disk and served
  /// as `tree.tar.co` by a loopback range server; removes both afterwards.
  static func withServedTree(_ body: (_ co: String, _ server: RangeServer) async throws -> Void) async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try await makeTree(in: directory)
    let co = tar + ".co"
    #expect(try await CLI.run(["create", tar, "-o", co]).status == 0)
    try await withRangeServer { server in
      try await server.putFile("tree.tar.co", path: co)
      try await body(co, server)
    }
  }

  /// A GNU tar of a tree with 60 directories of 40 files, a symlink alias and a climbing link.
  static func makeTree(in directory: URL) async throws -> String {
    let script = """
      set -e
      mkdir -p src/zone/Europe
      for d in $(seq -w 0 59); do mkdir -p src/tiles/$d; for f in $(seq -w 0 39); do printf "tile $d/$f" > src/tiles/$d/$f.pbf; done; done
      printf 'CET zone data' > src/zone/Europe/Paris
      ln -s Europe/Paris src/zone/Paris
      ln -s ../../outside src/zone/Escape
      ln -s Paris src/zone/Alias
      cd src && tar --format=gnu --sort=name -cf ../tree.tar .
      """
    let made = try await CLI.shell(script, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    return directory.appendingPathComponent("tree.tar").path
  }

  @Test("GNU tar, bsdtar and tarfile list a .tar.co with a table exactly as the source tar")
  func tarToolsStillList() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try await Self.makeTree(in: directory)
    let co = tar + ".co"
    #expect(try await CLI.run(["create", tar, "-o", co]).status == 0)
    for (program, arguments) in [("tar", ["-tvf"]), ("bsdtar", ["-tvf"]), ("python3", ["-m", "tarfile", "-l"])] {
      guard program != "bsdtar" || ProcessRunner.isAvailable("bsdtar") else { continue }
      let source = try await ProcessRunner.runDetached(program, arguments + [tar])
      let combined = try await ProcessRunner.runDetached(program, arguments + [co])
      #expect(source.status == 0 && combined.status == 0, "\(program): \(combined.stderr)")
      #expect(combined.stdout == source.stdout, "\(program)")
      #expect(combined.stderr.isEmpty, "\(program): \(combined.stderr)")
    }
    let validated = try await CLI.run(["validate", co])
    #expect(validated.status == 0, "\(validated.stdout)")
    #expect(String(decoding: validated.stdout, as: UTF8.self).contains("name table of"))
  }

  @Test("ls PREFIX, --glob and stat over HTTP equal the local ones; a directory costs ≤ 3 requests")
  func remoteListing() async throws {
    try await Self.withServedTree { co, server in
      for arguments in [["./tiles/17/"], ["./tiles/17", "--long"], ["./zone", "--json"], ["--glob", "./tiles/1?/**/*3.pbf"], ["./", "-r", "--files"]] {
        let local = try await CLI.run(["ls", co] + arguments)
        #expect(local.status == 0, "\(local.stderr)")
        server.resetLog()
        let remote = try await CLI.run(["ls", server.url("tree.tar.co")] + arguments + ["--stats"])
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(remote.stdout == local.stdout, "\(arguments)")
        #expect(!local.stdout.isEmpty)
        if arguments == ["./tiles/17/"] {
          #expect(server.requestCount <= 3, "\(remote.stderr)")
          #expect(String(decoding: local.stdout, as: UTF8.self).split(separator: "\n").count == 40)
        }
      }
      let stat = try await CLI.run(["stat", server.url("tree.tar.co"), "./zone/Paris"])
      #expect(stat.status == 0, "\(stat.stderr)")
      #expect(String(decoding: stat.stdout, as: UTF8.self).contains("kind: symlink"))
      #expect(String(decoding: stat.stdout, as: UTF8.self).contains("link: Europe/Paris"))
      let missing = try await CLI.run(["stat", co, "./nope"])
      #expect(missing.status != 0)
    }
  }

  @Test("get follows symlinks through the table, refuses escapes, --no-follow prints the link")
  func symlinks() async throws {
    try await Self.withServedTree { co, server in
      for archive in [co, server.url("tree.tar.co")] {
        #expect(try await CLI.run(["get", archive, "./zone/Paris"]).stdout == Data("CET zone data".utf8))
        #expect(try await CLI.run(["get", archive, "./zone/Alias"]).stdout == Data("CET zone data".utf8))
        #expect(try await CLI.run(["get", archive, "./zone/Paris", "--no-follow"]).stdout == Data("Europe/Paris\n".utf8))
        let escape = try await CLI.run(["get", archive, "./zone/Escape"])
        #expect(escape.status != 0)
        #expect(escape.stderr.contains("outside the archive"), "\(escape.stderr)")
      }
    }
  }

  @Test("plain ls lists the top level; --recursive everything; --files filters kinds; a scan agrees")
  func defaultListing() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    _ = try await Self.makeTree(in: directory)
    let made = directory.appendingPathComponent("made.tar.co").path
    let plainTar = directory.appendingPathComponent("plain.tar").path
    #expect(try await CLI.run(["tar", made, "src", "--co"], in: directory).status == 0)
    #expect(try await CLI.run(["tar", plainTar, "src", "--no-names"], in: directory).status == 0)
    for archive in [made, plainTar] {
      let top = try await CLI.run(["ls", archive])
      #expect(top.status == 0, "\(top.stderr)")
      #expect(top.stdoutText == "src/\n", "\(archive)")
      #expect(try await CLI.run(["ls", archive, ""]).stdout == top.stdout)
      #expect(top.stderr.contains("no name table") == (archive == plainTar), "\(top.stderr)")
      #expect(try await CLI.run(["ls", archive, "src/zone", "--files"]).stdoutText == "")
      #expect(try await CLI.run(["ls", archive, "src/zone/Europe", "--files"]).stdoutText == "src/zone/Europe/Paris\n")
      let everything = try await CLI.run(["ls", archive, "--recursive"]).stdoutText.split(separator: "\n")
      #expect(everything.count == 2400 + 1 + 3)  // tiles, Paris, 3 links (cotar tar writes no directory members)
      let files = try await CLI.run(["ls", archive, "--recursive", "--files"]).stdoutText.split(separator: "\n")
      #expect(files.count == 2401)
      #expect(try await CLI.run(["ls", archive, "--tar-order"]).stdoutText.split(separator: "\n").count == everything.count)
    }
    #expect(try await CLI.run(["ls", made, "--tar-order", "src/"]).status == 64)
    // The pipeline of the README: every file get can read, extracted.
    let out = directory.appendingPathComponent("out").path
    let piped = try await CLI.shell("'\(CLI.executable.path)' ls '\(made)' --recursive --files | '\(CLI.executable.path)' get '\(made)' --paths-from - -o '\(out)'", in: directory)
    #expect(piped.status == 0, "\(piped.stderr)")
    #expect(try String(contentsOfFile: out + "/src/tiles/07/13.pbf", encoding: .utf8) == "tile 07/13")
  }

  @Test("cotar serve of a remote archive reloads its listing from the table after the object changes")
  func serveReopenKeepsListing() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      """
      set -e
      mkdir one two
      printf 'version one' > one/a.txt; printf 'b' > one/b.txt
      printf 'version two, longer' > two/a.txt; printf 'c' > two/c.txt
      """, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    for version in ["one", "two"] {
      #expect(try await CLI.run(["tar", version + ".tar.co", "--base", version, ".", "--co"], in: directory).status == 0)
    }
    let upstream = try await RangeServer.start()
    defer { Task { await upstream.stop() } }
    try await upstream.putFile("up.tar.co", path: directory.appendingPathComponent("one.tar.co").path)
    let server = try await ServeProcess.start([upstream.url("up.tar.co"), "--quiet"], in: directory)
    defer { server.stop() }
    let before = try #require(await LoopbackClient.get(port: server.port, "/v1/list/"))
    #expect(before.contains("b.txt") && !before.contains("c.txt"), "\(before)")
    try await upstream.putFile("up.tar.co", path: directory.appendingPathComponent("two.tar.co").path)
    // The first read after the change fails its ETag pin; the server reopens the archive.
    #expect(await LoopbackClient.get(port: server.port, "/v1/file/a.txt")?.hasSuffix("version two, longer") == true)
    let after = try #require(await LoopbackClient.get(port: server.port, "/v1/list/"))
    #expect(after.hasPrefix("HTTP/1.1 200"), "\(after)")
    #expect(after.contains("c.txt") && !after.contains("b.txt"), "\(after)")
  }

  @Test("without a table, ls scans and says so; index, tar and append write tables")
  func writersAndFallback() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try await Self.makeTree(in: directory)
    let plain = try await CLI.run(["ls", tar, "./zone"])
    #expect(plain.status == 0)
    #expect(plain.stderr.contains("no name table"))
    #expect(try await CLI.run(["index", tar]).status == 0)
    #expect(FileManager.default.fileExists(atPath: tar + ".names"))
    let sidecar = try await CLI.run(["ls", tar, "./zone"])
    #expect(sidecar.stdout == plain.stdout)
    #expect(!sidecar.stderr.contains("no name table"))
    #expect(String(decoding: try await CLI.run(["validate", tar]).stdout, as: UTF8.self).contains("name table of"))

    let made = directory.appendingPathComponent("made.tar.co").path
    #expect(try await CLI.run(["tar", made, "src", "--co"], in: directory).status == 0)
    #expect(try await CLI.run(["ls", made, "src/zone"]).stdout == Data("src/zone/Alias\nsrc/zone/Escape\nsrc/zone/Europe/\nsrc/zone/Paris\n".utf8))
    try Data("new".utf8).write(to: directory.appendingPathComponent("extra.txt"))
    #expect(try await CLI.run(["append", made, "extra.txt"], in: directory).status == 0)
    let appended = try await CLI.run(["ls", made, ""])
    #expect(appended.stdout == Data("extra.txt\nsrc/\n".utf8), "\(appended.stderr)")
    #expect(!appended.stderr.contains("no name table"))
    #expect(try await CLI.run(["validate", made]).status == 0)
  }
}
