import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// `get` of a path that gives no bytes: what it costs over HTTP (the name table is opened
/// once, each block read once) and what it says (a directory without a member of its own is
/// still a directory).
@Suite("cotar get of a missing path", .timeLimit(.minutes(5)))
struct MissingPathCLITests {
  @Test("an absent path over HTTP costs the lookup plus 2 requests for the table: trailer and block index, one block")
  func absentPathBudget() async throws {
    try await NamesCLITests.withServedTree { co, server in
      let url = server.url("tree.tar.co")
      // With the default 64 KiB suffix read, index, table and block all come with it.
      server.resetLog()
      let cheap = try await CLI.run(["get", url, "./tiles/59/nope.pbf"])
      #expect(cheap.stderr.contains("'./tiles/59/nope.pbf' is not in"), "\(cheap.stderr)")
      #expect(server.log.map(\.range) == ["bytes=-65536"], "\(server.log)")
      // A 4 KiB suffix read holds neither the table nor the data of the last tiles.
      let small = ["--speculative-bytes", "4096"]
      // The lookup alone: a path the index holds, whose bytes are then one more read.
      server.resetLog()
      let present = try await CLI.run(["get", url, "./tiles/59/39.pbf"] + small)
      #expect(present.status == 0, "\(present.stderr)")
      let lookup = server.requestCount - 1
      server.resetLog()
      let absent = try await CLI.run(["get", url, "./tiles/59/nope.pbf"] + small)
      #expect(absent.status != 0)
      #expect(absent.stderr.contains("'./tiles/59/nope.pbf' is not in"), "\(absent.stderr)")
      let log = server.log
      #expect(log.count == lookup + 2, "\(log.map { $0.range ?? "-" })")
      #expect(Set(log.compactMap(\.range)).count == log.count, "a range read twice: \(log.map { $0.range ?? "-" })")
      // --paths-from with the absent path among present ones: still 2 for the table.
      let directory = try CLI.temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: directory) }
      let list = directory.appendingPathComponent("paths")
      try Data("./tiles/59/38.pbf\n./tiles/59/nope.pbf\n./tiles/59/39.pbf\n".utf8).write(to: list)
      server.resetLog()
      let batch = try await CLI.run(
        ["get", url, "--paths-from", list.path, "-o", directory.appendingPathComponent("out").path] + small)
      #expect(batch.status != 0)
      #expect(batch.stderr.contains("nope.pbf"), "\(batch.stderr)")
      let batchLog = server.log
      #expect(Set(batchLog.compactMap(\.range)).count == batchLog.count, "a range read twice: \(batchLog.map { $0.range ?? "-" })")
      #expect(batchLog.count <= lookup + 1 + 2, "\(batchLog.map { $0.range ?? "-" })")
    }
  }

  @Test("get of a directory without a member of its own says it is a directory (.tar.co, and a .tar with X.tar.names)")
  func implicitDirectory() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // Python's tarfile with only file members: 'docs' is implied by 'docs/a.txt'.
    let script = """
      import io, tarfile
      with tarfile.open('site.tar', 'w', format=tarfile.PAX_FORMAT) as tar:
          for name in ['docs/a.txt', 'docs/deep/b.txt', 'index.html']:
              data = name.encode()
              info = tarfile.TarInfo(name); info.size = len(data)
              tar.addfile(info, io.BytesIO(data))
      """
    let made = try await ProcessRunner.runDetached("python3", ["-c", script], in: directory.path)
    #expect(made.status == 0, "\(made.stderr)")
    let tar = directory.appendingPathComponent("site.tar").path
    #expect(try await CLI.run(["create", tar, "-o", tar + ".co"]).status == 0)
    let indexed = try await CLI.run(["index", tar])
    #expect(indexed.status == 0, "\(indexed.stderr)")
    #expect(FileManager.default.fileExists(atPath: tar + ".names"))
    for archive in [tar + ".co", tar] {
      for path in ["docs", "docs/", "docs/deep"] {
        let got = try await CLI.run(["get", archive, path])
        #expect(got.status != 0)
        #expect(got.stderr.contains("'\(path)' is a directory in \(archive)"), "\(archive) \(path): \(got.stderr)")
        #expect(got.stderr.contains("cotar extract"), "\(got.stderr)")
      }
      // A path that only shares a prefix with the directory is still absent.
      let absent = try await CLI.run(["get", archive, "doc"])
      #expect(absent.stderr.contains("'doc' is not in"), "\(absent.stderr)")
    }
  }
}
