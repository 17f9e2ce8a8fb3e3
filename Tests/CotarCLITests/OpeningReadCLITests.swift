import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// The bytes of the first read of a remote `.tar.co` (its last 64 KiB, or all of it) answer
/// every later read inside them: a cold `get`, `ls`, `stat` or `info` whose bytes lie there
/// costs that one request (SPEC §8.3).
@Suite("cotar reuses the first read of a remote .tar.co", .timeLimit(.minutes(5)))
struct OpeningReadCLITests {
  /// Serves `s.tar.co` (one 6-byte file: 2,202 bytes, so the first read is the whole object;
  /// `bare.tar.co` is the same without a name table)
  /// and `a.tar.co` (a 108,894-byte file, 50 small ones in `d/` and `z.txt`, about 165 KB:
  /// its last 64 KiB hold the index, the name table and every member after the big one).
  static func withArchives(_ body: (_ server: RangeServer, _ large: String) async throws -> Void) async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let script = """
      set -e
      mkdir -p small large/d
      echo small > small/s.txt
      seq 1 20000 > large/big.bin
      for i in $(seq 1 50); do echo "file $i" > large/d/f$i.txt; done
      echo last > large/z.txt
      "$1" tar s.tar.co --base small .
      "$1" tar bare.tar.co --no-names --base small .
      "$1" tar a.tar.co --base large .
      """
    let made = try await CLI.launch(URL(fileURLWithPath: "/bin/sh"), ["-c", script, "sh", CLI.executable.path], in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    try await withRangeServer { server in
      try await server.putFile("s.tar.co", path: directory.appendingPathComponent("s.tar.co").path)
      try await server.putFile("bare.tar.co", path: directory.appendingPathComponent("bare.tar.co").path)
      let large = directory.appendingPathComponent("a.tar.co").path
      try await server.putFile("a.tar.co", path: large)
      try await body(server, large)
    }
  }

  /// Runs `arguments` against a fresh server log and returns the result and that log.
  static func run(_ server: RangeServer, _ arguments: [String]) async throws -> (CommandResult, [RangeServer.Logged]) {
    server.resetLog()
    let result = try await CLI.run(arguments)
    #expect(result.status == 0, "\(arguments): \(result.stderr)")
    return (result, server.log)
  }

  @Test("get, ls, stat and info of a .tar.co the first read holds whole: one request each")
  func wholeObjectInFirstRead() async throws {
    try await Self.withArchives { server, _ in
      let url = server.url("s.tar.co")
      let (get, getLog) = try await Self.run(server, ["get", url, "s.txt", "--stats"])
      #expect(get.stdoutText == "small\n")
      #expect(getLog.map(\.range) == ["bytes=-65536"], "\(getLog)")
      #expect(get.stderr.contains("stats: total: 1 request"), "\(get.stderr)")
      let (list, listLog) = try await Self.run(server, ["ls", url])
      #expect(list.stdoutText == "s.txt\n")
      #expect(listLog.count == 1, "\(listLog)")
      let (stat, statLog) = try await Self.run(server, ["stat", url, "s.txt"])
      #expect(stat.stdoutText.contains("size: 6"), "\(stat.stdoutText)")
      #expect(statLog.count == 1, "\(statLog)")
      let (info, infoLog) = try await Self.run(server, ["info", url])
      #expect(info.stdoutText.contains("entries: 1"))
      #expect(infoLog.count == 1, "\(infoLog)")
      // Without a table, ls scans the tar headers: through the same bytes.
      let (bare, bareLog) = try await Self.run(server, ["ls", server.url("bare.tar.co")])
      #expect(bare.stdoutText == "s.txt\n")
      #expect(bare.stderr.contains("has no name table"), "\(bare.stderr)")
      #expect(bareLog.map(\.range) == ["bytes=-65536"], "\(bareLog)")
    }
  }

  @Test("entries, the name table and the index inside the first read of a larger .tar.co cost no more requests")
  func readsInsideTheSuffix() async throws {
    try await Self.withArchives { server, large in
      let url = server.url("a.tar.co")
      let size = try FileManager.default.attributesOfItem(atPath: large)[.size] as? Int ?? 0
      #expect(size > 2 * 65536)
      let (get, getLog) = try await Self.run(server, ["get", url, "z.txt"])
      #expect(get.stdoutText == "last\n")
      #expect(getLog.map(\.range) == ["bytes=-65536"], "\(getLog)")
      let directory = try CLI.temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: directory) }
      let out = directory.appendingPathComponent("out").path
      let (_, batchLog) = try await Self.run(server, ["get", url, "d/f1.txt", "d/f50.txt", "z.txt", "-o", out])
      #expect(batchLog.count == 1, "\(batchLog)")
      #expect(FileManager.default.contents(atPath: out + "/d/f50.txt") == Data("file 50\n".utf8))
      let (stat, statLog) = try await Self.run(server, ["stat", url, "d/f1.txt"])
      #expect(stat.stdoutText.contains("size: 7"), "\(stat.stdoutText)")
      #expect(statLog.count == 1, "\(statLog)")
      let (list, listLog) = try await Self.run(server, ["ls", url, "d"])
      #expect(list.stdoutText.split(separator: "\n").count == 50)
      #expect(listLog.count == 1, "\(listLog)")
      let (info, infoLog) = try await Self.run(server, ["info", url])
      #expect(info.stdoutText.contains("entries: 52"))
      #expect(infoLog.count == 1, "\(infoLog)")
    }
  }

  @Test("an entry that starts before the first read and ends inside it asks only for the bytes before it")
  func entryStraddlingTheSuffix() async throws {
    try await Self.withArchives { server, large in
      let size = try FileManager.default.attributesOfItem(atPath: large)[.size] as? Int ?? 0
      let windowStart = size - 65536
      #expect(windowStart > 512 && windowStart < 512 + 108_894)
      let (get, log) = try await Self.run(server, ["get", server.url("a.tar.co"), "big.bin"])
      let expected = (1...20000).map { "\($0)\n" }.joined()
      #expect(get.stdoutText == expected)
      #expect(log.map(\.range) == ["bytes=-65536", "bytes=512-\(windowStart - 1)"], "\(log)")
    }
  }
}
