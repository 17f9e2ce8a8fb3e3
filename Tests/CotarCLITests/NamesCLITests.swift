import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// The name table end to end: real tars from GNU tar, `cotar create`/`index`/`tar`/`append`,
/// tar tools still listing them, and `ls`/`stat`/`get` locally and over a real HTTP server.
@Suite("cotar name table", .timeLimit(.minutes(2)))
struct NamesCLITests {
  /// A GNU tar of a tree with 60 directories of 40 files, a symlink alias and a climbing link.
  static func makeTree(in directory: URL) throws -> String {
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
    let made = try CLI.shell(script, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    return directory.appendingPathComponent("tree.tar").path
  }

  @Test("GNU tar, bsdtar and tarfile list a .tar.co with a table exactly as the source tar")
  func tarToolsStillList() throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try Self.makeTree(in: directory)
    let co = tar + ".co"
    #expect(try CLI.run(["create", tar, "-o", co]).status == 0)
    for (program, arguments) in [("tar", ["-tvf"]), ("bsdtar", ["-tvf"]), ("python3", ["-m", "tarfile", "-l"])] {
      guard program != "bsdtar" || ProcessRunner.isAvailable("bsdtar") else { continue }
      let source = try ProcessRunner.run(program, arguments + [tar])
      let combined = try ProcessRunner.run(program, arguments + [co])
      #expect(source.status == 0 && combined.status == 0, "\(program): \(combined.stderr)")
      #expect(combined.stdout == source.stdout, "\(program)")
      #expect(combined.stderr.isEmpty, "\(program): \(combined.stderr)")
    }
    let validated = try CLI.run(["validate", co])
    #expect(validated.status == 0, "\(validated.stdout)")
    #expect(String(decoding: validated.stdout, as: UTF8.self).contains("name table of"))
  }

  @Test("ls PREFIX, --glob and stat over HTTP equal the local ones; a directory costs ≤ 3 requests")
  func remoteListing() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try Self.makeTree(in: directory)
    let co = tar + ".co"
    #expect(try CLI.run(["create", tar, "-o", co]).status == 0)
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    try await server.putFile("tree.tar.co", path: co)
    for arguments in [["./tiles/17/"], ["./tiles/17", "--long"], ["./zone", "--json"], ["--glob", "./tiles/1?/**/*3.pbf"], ["./", "-r", "--files"]] {
      let local = try CLI.run(["ls", co] + arguments)
      #expect(local.status == 0, "\(local.stderr)")
      server.resetLog()
      let remote = try CLI.run(["ls", server.url("tree.tar.co")] + arguments + ["--stats"])
      #expect(remote.status == 0, "\(remote.stderr)")
      #expect(remote.stdout == local.stdout, "\(arguments)")
      #expect(!local.stdout.isEmpty)
      if arguments == ["./tiles/17/"] {
        #expect(server.requestCount <= 3, "\(remote.stderr)")
        #expect(String(decoding: local.stdout, as: UTF8.self).split(separator: "\n").count == 40)
      }
    }
    let stat = try CLI.run(["stat", server.url("tree.tar.co"), "./zone/Paris"])
    #expect(stat.status == 0, "\(stat.stderr)")
    #expect(String(decoding: stat.stdout, as: UTF8.self).contains("kind: symlink"))
    #expect(String(decoding: stat.stdout, as: UTF8.self).contains("link: Europe/Paris"))
    let missing = try CLI.run(["stat", co, "./nope"])
    #expect(missing.status != 0)
  }

  @Test("get follows symlinks through the table, refuses escapes, --no-follow prints the link")
  func symlinks() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try Self.makeTree(in: directory)
    let co = tar + ".co"
    #expect(try CLI.run(["create", tar, "-o", co]).status == 0)
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    try await server.putFile("tree.tar.co", path: co)
    for archive in [co, server.url("tree.tar.co")] {
      #expect(try CLI.run(["get", archive, "./zone/Paris"]).stdout == Data("CET zone data".utf8))
      #expect(try CLI.run(["get", archive, "./zone/Alias"]).stdout == Data("CET zone data".utf8))
      #expect(try CLI.run(["get", archive, "./zone/Paris", "--no-follow"]).stdout == Data("Europe/Paris\n".utf8))
      let escape = try CLI.run(["get", archive, "./zone/Escape"])
      #expect(escape.status != 0)
      #expect(escape.stderr.contains("outside the archive"), "\(escape.stderr)")
    }
  }

  @Test("without a table, ls scans and says so; index, tar and append write tables")
  func writersAndFallback() throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try Self.makeTree(in: directory)
    let plain = try CLI.run(["ls", tar, "./zone"])
    #expect(plain.status == 0)
    #expect(plain.stderr.contains("no name table"))
    #expect(try CLI.run(["index", tar]).status == 0)
    #expect(FileManager.default.fileExists(atPath: tar + ".names"))
    let sidecar = try CLI.run(["ls", tar, "./zone"])
    #expect(sidecar.stdout == plain.stdout)
    #expect(!sidecar.stderr.contains("no name table"))
    #expect(String(decoding: try CLI.run(["validate", tar]).stdout, as: UTF8.self).contains("name table of"))

    let made = directory.appendingPathComponent("made.tar.co").path
    #expect(try CLI.run(["tar", made, "src", "--co"], in: directory).status == 0)
    #expect(try CLI.run(["ls", made, "src/zone"]).stdout == Data("src/zone/Alias\nsrc/zone/Escape\nsrc/zone/Europe/\nsrc/zone/Paris\n".utf8))
    try Data("new".utf8).write(to: directory.appendingPathComponent("extra.txt"))
    #expect(try CLI.run(["append", made, "extra.txt"], in: directory).status == 0)
    let appended = try CLI.run(["ls", made, ""])
    #expect(appended.stdout == Data("extra.txt\nsrc/\n".utf8), "\(appended.stderr)")
    #expect(!appended.stderr.contains("no name table"))
    #expect(try CLI.run(["validate", made]).status == 0)
  }
}
