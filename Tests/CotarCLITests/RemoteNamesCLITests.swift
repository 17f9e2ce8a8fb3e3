import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// `ls`/`stat`/`extract` of a remote archive read only the table its location names: a
/// `.tar`'s `X.tar.names` with one suffix read (the tar untouched), a `.tar.co`'s own table;
/// a failing archive is reported, not taken for "no table".
@Suite("cotar listing of a remote sidecar table", .timeLimit(.minutes(5)))
struct RemoteNamesCLITests {
  @Test("ls and stat of a remote .tar with X.tar.names: one suffix read of the sidecar, nothing of the tar")
  func sidecarListing() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try await NamesCLITests.makeTree(in: directory)
    let indexed = try await CLI.run(["index", tar])
    #expect(indexed.status == 0, "\(indexed.stderr)")
    try await withRangeServer { server in
      try await server.putFile("tree.tar", path: tar)
      try await server.putFile("tree.tar.index", path: tar + ".index")
      try await server.putFile("tree.tar.names", path: tar + ".names")
      let local = try await CLI.run(["ls", tar, "./zone/"])
      #expect(local.status == 0, "\(local.stderr)")
      server.resetLog()
      let remote = try await CLI.run(["ls", server.url("tree.tar"), "./zone/"])
      #expect(remote.status == 0, "\(remote.stderr)")
      #expect(remote.stdout == local.stdout)
      #expect(!remote.stderr.contains("scanning"), "\(remote.stderr)")
      let log = server.log
      #expect(!log.contains { $0.path == "/tree.tar" }, "the tar was read: \(log)")
      #expect(!log.contains { $0.range == "bytes=-1" }, "\(log)")
      #expect(Set(log.map { "\($0.path) \($0.range ?? "")" }).count == log.count, "a range read twice: \(log)")
      // This table is under 64 KiB: one suffix read holds all of it, blocks included.
      #expect(log.count == 1, "\(log)")
      server.resetLog()
      let stat = try await CLI.run(["stat", server.url("tree.tar"), "./zone/Paris"])
      #expect(stat.status == 0, "\(stat.stderr)")
      #expect(String(decoding: stat.stdout, as: UTF8.self).contains("kind: symlink"), "\(stat.stderr)")
      #expect(!server.log.contains { $0.path == "/tree.tar" }, "\(server.log)")
    }
  }

  @Test("ls of a small remote .tar with no table and no index: one suffix read after the .names 404; a larger one reuses it")
  func plainTarRoundTrips() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data("hello\n".utf8).write(to: directory.appendingPathComponent("a.txt"))
    // GNU tar with 2 KiB records: header, one data block, two zero blocks.
    let small = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["-b", "4", "-cf", "noidx.tar", "a.txt"], in: directory)
    #expect(small.status == 0, "\(small.stderr)")
    let smallPath = directory.appendingPathComponent("noidx.tar").path
    #expect(try FileManager.default.attributesOfItem(atPath: smallPath)[.size] as? Int == 2048)
    var random = SplitMix64(seed: 8)
    for index in 0..<6 {
      try Data((0..<40_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }).write(to: directory.appendingPathComponent("big\(index).bin"))
    }
    let big = try await CLI.launch(
      URL(fileURLWithPath: "/usr/bin/tar"), ["-cf", "big.tar"] + (0..<6).map { "big\($0).bin" } + ["a.txt"], in: directory)
    #expect(big.status == 0, "\(big.stderr)")
    try await withRangeServer { server in
      try await server.putFile("noidx.tar", path: smallPath)
      try await server.putFile("big.tar", path: directory.appendingPathComponent("big.tar").path)
      for arguments in [["ls"], ["ls", "--tar-order"]] {
        server.resetLog()
        let listed = try await CLI.run(arguments + [server.url("noidx.tar")])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdoutText.contains("a.txt"), "\(listed.stdoutText)")
        let tarReads = server.log.filter { $0.path == "/noidx.tar" }
        #expect(tarReads.count == 1, "\(arguments): \(server.log)")
        #expect(server.log.count == (arguments.count == 1 ? 2 : 1), "\(arguments): \(server.log)")
      }
      server.resetLog()
      let listed = try await CLI.run(["ls", server.url("big.tar")])
      #expect(listed.status == 0, "\(listed.stderr)")
      #expect(listed.stdoutText.split(separator: "\n").count == 7, "\(listed.stdoutText)")
      let log = server.log.filter { $0.path == "/big.tar" }
      // The suffix read gives the size and the (absent) index footer (no `bytes=-1`, no 8-byte
      // read), and the scan reads only the bytes before it.
      #expect(log.first?.range == "bytes=-65536", "\(log)")
      let size = try #require(try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("big.tar").path)[.size] as? Int)
      for read in log.dropFirst() {
        let bounds = (read.range ?? "").dropFirst("bytes=".count).split(separator: "-").compactMap { Int($0) }
        #expect(bounds.count == 2 && bounds[1] < size - 65_536, "read inside the suffix already held: \(log)")
      }
    }
  }

  @Test("ls of a remote .tar.co that answers 403 fails with the 403 and asks for no .names")
  func failingArchiveIsReported() async throws {
    try await NamesCLITests.withServedTree { _, server in
      server.misbehave { $0.statusForPath["/tree.tar.co"] = 403 }
      server.resetLog()
      let listed = try await CLI.run(["ls", server.url("tree.tar.co"), "--attempts", "1"])
      #expect(listed.status != 0)
      #expect(listed.stderr.contains("403"), "\(listed.stderr)")
      #expect(!server.log.contains { $0.path.hasSuffix(".names") }, "\(server.log)")
    }
  }

  @Test("validate of a remote .tar checks its X.tar.names: a stale table is invalid, as it is locally")
  func validateRemoteSidecar() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try await NamesCLITests.makeTree(in: directory)
    #expect(try await CLI.run(["index", tar]).status == 0)
    // Another tar's table (only ./zone) stands in for a stale one.
    let other = directory.appendingPathComponent("other.tar").path
    #expect(try await CLI.shell("cd src && tar --format=gnu -cf ../other.tar ./zone", in: directory).status == 0)
    #expect(try await CLI.run(["index", other]).status == 0)
    try await withRangeServer { server in
      try await server.putFile("tree.tar", path: tar)
      try await server.putFile("tree.tar.index", path: tar + ".index")
      try await server.putFile("tree.tar.names", path: tar + ".names")
      let good = try await CLI.run(["validate", server.url("tree.tar")])
      #expect(good.status == 0, "\(good.stdout) \(good.stderr)")
      #expect(String(decoding: good.stdout, as: UTF8.self).contains("name table of"), "\(good.stdout)")
      try await server.putFile("tree.tar.names", path: other + ".names")
      let stale = try await CLI.run(["validate", server.url("tree.tar")])
      #expect(stale.status != 0, "\(stale.stdout)")
      #expect(String(decoding: stale.stdout, as: UTF8.self).contains("invalid"), "\(stale.stdout) \(stale.stderr)")
    }
  }

  @Test("cotar serve of a remote .tar lists it from its X.tar.names sidecar")
  func serveRemoteSidecar() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try await NamesCLITests.makeTree(in: directory)
    #expect(try await CLI.run(["index", tar]).status == 0)
    let upstream = try await RangeServer.start()
    defer { Task { await upstream.stop() } }
    try await upstream.putFile("tree.tar", path: tar)
    try await upstream.putFile("tree.tar.index", path: tar + ".index")
    try await upstream.putFile("tree.tar.names", path: tar + ".names")
    let server = try await ServeProcess.start([upstream.url("tree.tar"), "--quiet"], in: directory)
    defer { server.stop() }
    let listed = try #require(await LoopbackClient.get(port: server.port, "/v1/list/zone/"))
    #expect(listed.hasPrefix("HTTP/1.1 200"), "\(listed)")
    #expect(listed.contains("Europe"), "\(listed)")
  }

  @Test("ls through cotar serve's /archive/<name> reads the served X.tar.names, not the tar")
  func lsThroughServe() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try await NamesCLITests.makeTree(in: directory)
    #expect(try await CLI.run(["index", tar]).status == 0)
    let tarSize = try #require(try FileManager.default.attributesOfItem(atPath: tar)[.size] as? Int)
    let server = try await ServeProcess.start([tar, "--quiet"], in: directory)
    defer { server.stop() }
    let local = try await CLI.run(["ls", tar])
    #expect(local.status == 0 && !local.stdout.isEmpty, "\(local.stderr)")
    let served = try await CLI.run(["ls", "http://127.0.0.1:\(server.port)/archive/tree.tar", "--stats"])
    #expect(served.status == 0, "\(served.stderr)")
    #expect(served.stdout == local.stdout)
    #expect(!served.stderr.contains("scanning"), "\(served.stderr)")
    // `stats: total: N requests, M bytes`: the table (one suffix read), not a walk of the headers.
    let total = try #require(served.stderr.split(separator: "\n").first { $0.hasPrefix("stats: total: ") })
    let figures = total.dropFirst("stats: total: ".count).split(separator: ",").compactMap { Int($0.split(separator: " ").first ?? "") }
    #expect(figures.count == 2, "\(total)")
    #expect((figures.first ?? .max) <= 2, "\(served.stderr)")
    #expect((figures.last ?? .max) < tarSize / 20, "\(served.stderr)")
  }
}
