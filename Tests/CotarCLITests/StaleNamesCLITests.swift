import CotarTestSupport
import Foundation
import Testing

/// A name table that describes an older build of the tar than its index (a stale
/// `X.tar.names`): `index --no-names` never leaves one beside a new index, and readers that
/// take data offsets from a table check them against the index (SPEC §12.5) instead of
/// writing wrong bytes.
@Suite("Stale name tables, command line", .timeLimit(.minutes(5)))
struct StaleNamesCLITests {
  static let oldA = "one\n"
  static let oldB = "two two\n"
  static let newA = "CHANGED-A-LONGER-CONTENT\n"
  static let newB = "x\n"

  /// In `directory`: `d.tar` (GNU tar) of a.txt, b.txt and `link -> a.txt` indexed with its
  /// name table, then rewritten with other contents in another member order. Returns the
  /// first build's `d.tar.names` (for tests that put it back).
  static func rewrittenTar(in directory: URL) async throws -> Data {
    func write(_ name: String, _ text: String) throws {
      try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }
    func tar(_ members: [String]) async throws {
      try? FileManager.default.removeItem(at: directory.appendingPathComponent("d.tar"))
      let made = try await CLI.launch(
        URL(fileURLWithPath: "/usr/bin/tar"), ["--format=gnu", "-C", directory.path, "-cf", directory.appendingPathComponent("d.tar").path] + members)
      #expect(made.status == 0, "\(made.stderr)")
    }
    try write("a.txt", oldA)
    try write("b.txt", oldB)
    try FileManager.default.createSymbolicLink(
      atPath: directory.appendingPathComponent("link").path, withDestinationPath: "a.txt")
    try await tar(["a.txt", "b.txt", "link"])
    let indexed = try await CLI.run(["index", "d.tar"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    let oldNames = try Data(contentsOf: directory.appendingPathComponent("d.tar.names"))
    try write("a.txt", newA)
    try write("b.txt", newB)
    try await tar(["b.txt", "a.txt", "link"])
    return oldNames
  }

  /// Whether `out` holds exactly the new contents of a.txt and b.txt.
  static func extractedNewContents(_ out: URL) throws -> Bool {
    let a = try String(contentsOf: out.appendingPathComponent("a.txt"), encoding: .utf8)
    let b = try String(contentsOf: out.appendingPathComponent("b.txt"), encoding: .utf8)
    return a == newA && b == newB
  }

  /// Checks the stale-table refusal: status 1, the archive, the entry, both offset/size
  /// pairs and the remedy named, and no file written.
  static func expectStaleRefusal(_ result: CommandResult, archive: String, out: URL) {
    #expect(result.status == 1, "\(result.stderr)")
    #expect(result.stderr.contains(archive), "\(result.stderr)")
    #expect(result.stderr.contains("entry 'a.txt'") || result.stderr.contains("entry 'b.txt'"), "\(result.stderr)")
    #expect(result.stderr.contains("does not match the index"), "\(result.stderr)")
    #expect(result.stderr.contains("the table gives offset") && result.stderr.contains("the index has offset"), "\(result.stderr)")
    #expect(result.stderr.contains("stale"), "\(result.stderr)")
    #expect(result.stderr.contains("--force"), "\(result.stderr)")
    #expect(!result.stderr.contains("extracted"), "\(result.stderr)")
    for name in ["a.txt", "b.txt"] {
      #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name) was written")
    }
  }

  @Test("the reported repro: index --no-names --force removes the old d.tar.names, and extract writes the new bytes")
  func noNamesForceRemovesStaleSidecar() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    _ = try await Self.rewrittenTar(in: directory)
    let indexed = try await CLI.run(["index", "d.tar", "--no-names", "--force"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    #expect(indexed.stderr.contains("removed d.tar.names"), "\(indexed.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("d.tar.names").path))
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    #expect(!names.contains { $0.contains(".cotar-tmp-") }, "\(names)")
    let extracted = try await CLI.run(["extract", "d.tar", "-o", "out"], in: directory)
    #expect(extracted.status == 0, "\(extracted.stderr)")
    #expect(try Self.extractedNewContents(directory.appendingPathComponent("out")))
    // A later build with names writes the sidecar again.
    #expect(try await CLI.run(["index", "d.tar", "--force"], in: directory).status == 0)
    #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("d.tar.names").path))
  }

  @Test("without --force an existing d.tar.names refuses index --no-names before anything is written")
  func noNamesWithoutForceRefusesExistingNames() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let old = try await Self.rewrittenTar(in: directory)
    // Only the old table is left: the index output itself is free.
    try FileManager.default.removeItem(at: directory.appendingPathComponent("d.tar.index"))
    let refused = try await CLI.run(["index", "d.tar", "--no-names"], in: directory)
    #expect(refused.status == 1, "\(refused.stderr)")
    #expect(refused.stderr.contains("d.tar.names"), "\(refused.stderr)")
    #expect(refused.stderr.contains("pass --force"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("d.tar.index").path))
    #expect(try Data(contentsOf: directory.appendingPathComponent("d.tar.names")) == old)
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    #expect(!names.contains { $0.contains(".cotar-tmp-") }, "\(names)")
  }

  @Test("extract refuses a stale d.tar.names put back beside a rebuilt index, writing nothing")
  func extractRefusesStaleLocalTable() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let old = try await Self.rewrittenTar(in: directory)
    // An old tool: the index is rebuilt, the old table stays.
    #expect(try await CLI.run(["index", "d.tar", "--force"], in: directory).status == 0)
    try old.write(to: directory.appendingPathComponent("d.tar.names"))
    let out = directory.appendingPathComponent("out")
    let extracted = try await CLI.run(["extract", "d.tar", "-o", "out"], in: directory)
    Self.expectStaleRefusal(extracted, archive: "d.tar", out: out)
    #expect(extracted.stderr.contains("the name table d.tar.names"), "\(extracted.stderr)")
    #expect(extracted.stderr.contains("cotar index --force"), "\(extracted.stderr)")
    // The table itself is still fine for listing; a fresh table extracts.
    #expect(try await CLI.run(["index", "d.tar", "--force"], in: directory).status == 0)
    let fixed = try await CLI.run(["extract", "d.tar", "-o", "out"], in: directory)
    #expect(fixed.status == 0, "\(fixed.stderr)")
    #expect(try Self.extractedNewContents(out))
  }

  @Test("extract over HTTP refuses a stale X.tar.names served beside X.tar and X.tar.index")
  func extractRefusesStaleTableOverHTTP() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let old = try await Self.rewrittenTar(in: directory)
    #expect(try await CLI.run(["index", "d.tar", "--force"], in: directory).status == 0)
    try await withRangeServer { server in
      try await server.putFile("d.tar", path: directory.appendingPathComponent("d.tar").path)
      try await server.putFile("d.tar.index", path: directory.appendingPathComponent("d.tar.index").path)
      server.put("d.tar.names", [UInt8](old))
      let out = directory.appendingPathComponent("out")
      let extracted = try await CLI.run(["extract", server.url("d.tar"), "-o", out.path])
      Self.expectStaleRefusal(extracted, archive: server.url("d.tar"), out: out)
      #expect(extracted.stderr.contains("the name table \(server.url("d.tar.names"))"), "\(extracted.stderr)")
      // No byte of member data was fetched: the check came first.
      #expect(!server.log.contains { $0.path == "/d.tar" && $0.range != nil && !($0.range ?? "").hasPrefix("bytes=-") }, "\(server.log)")
      // With the current table served, the same extract writes the new bytes.
      try await server.putFile("d.tar.names", path: directory.appendingPathComponent("d.tar.names").path)
      let fixed = try await CLI.run(["extract", server.url("d.tar"), "-o", out.path])
      #expect(fixed.status == 0, "\(fixed.stderr)")
      #expect(try Self.extractedNewContents(out))
    }
  }

  @Test("get follows a symlink through a .tar.co's table only when the table matches the index")
  func getSymlinkChecksTable() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let old = try await Self.rewrittenTar(in: directory)
    // A .tar.co of the new tar whose table is the old build's (tar, table, index: SPEC §12.1).
    #expect(try await CLI.run(["create", "d.tar", "-o", "d.tar.co"], in: directory).status == 0)
    #expect(try await CLI.run(["index", "d.tar", "--force"], in: directory).status == 0)
    let co = try Data(contentsOf: directory.appendingPathComponent("d.tar.co"))
    let newNames = try Data(contentsOf: directory.appendingPathComponent("d.tar.names"))
    let indexLength = co.count - (try Data(contentsOf: directory.appendingPathComponent("d.tar")).count) - newNames.count
    #expect(indexLength > 0)
    let tarPart = co.prefix(co.count - indexLength - newNames.count)
    let stale = tarPart + old + co.suffix(indexLength)
    let good = try await CLI.run(["get", "d.tar.co", "link"], in: directory)
    #expect(good.status == 0, "\(good.stderr)")
    #expect(good.stdoutText == Self.newA)
    try stale.write(to: directory.appendingPathComponent("stale.tar.co"))
    let got = try await CLI.run(["get", "stale.tar.co", "link"], in: directory)
    #expect(got.status == 1, "\(got.stderr)")
    #expect(got.stdout.isEmpty, "\(got.stdoutText)")
    #expect(got.stderr.contains("entry 'a.txt'") && got.stderr.contains("does not match the index"), "\(got.stderr)")
    #expect(got.stderr.contains("cotar create --force"), "\(got.stderr)")
  }
}
