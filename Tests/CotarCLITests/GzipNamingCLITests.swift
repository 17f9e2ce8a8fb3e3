import CotarTestSupport
import Foundation
import Testing

/// An archive's name and its compression agree: `cotar tar` compresses an output named
/// `.tar.gz` and refuses `--gzip` for any other name, `append` refuses a `.tar.gz` up front, and
/// a sidecar's tar cut after indexing is reported with its real end as a stale index.
@Suite("cotar: gzip names, append on .tar.gz, tars cut after indexing", .timeLimit(.minutes(3)))
struct GzipNamingCLITests {
  /// A directory `t` holding `a.txt` (text) and `b.bin` (5000 pseudo-random bytes).
  static func makeTree(in directory: URL) throws {
    let tree = directory.appendingPathComponent("t")
    try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
    try Data("hello\n".utf8).write(to: tree.appendingPathComponent("a.txt"))
    var random = SplitMix64(seed: 11)
    try Data((0..<5000).map { _ in UInt8(truncatingIfNeeded: random.next()) }).write(to: tree.appendingPathComponent("b.bin"))
  }

  /// The names in `directory`, sorted.
  static func names(in directory: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
  }

  @Test("tar: an output named .tar.gz/.tgz is gzip without --gzip; --gzip with another name is exit 64, nothing written")
  func nameDecidesCompression() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.makeTree(in: directory)
    for name in ["plain.tar.gz", "short.tgz"] {
      let written = try await CLI.run(["tar", name, "t", "--gzip-level", "9"], in: directory)
      #expect(written.status == 0, "\(name): \(written.stderr)")
      let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
      #expect(Array(bytes.prefix(2)) == [0x1F, 0x8B], "\(name) is not gzip")
      let indexed = try await CLI.run(["index", name], in: directory)
      #expect(indexed.status == 0, "\(name): \(indexed.stderr)")
      let got = try await CLI.run(["get", name, "t/a.txt"], in: directory)
      #expect(got.status == 0 && got.stdoutText == "hello\n", "\(name): \(got.stderr)")
    }
    let before = try Self.names(in: directory)
    for (output, suggested) in [("x.tar", "x.tar.gz"), ("x.tar.co", "x.tar.gz"), ("x", "x.tar.gz")] {
      let refused = try await CLI.run(["tar", output, "t", "--gzip"], in: directory)
      #expect(refused.status == 64, "\(output): \(refused.stderr)")
      #expect(refused.stderr.contains("the output \(output) is not named .tar.gz or .tgz"), "\(refused.stderr)")
      #expect(refused.stderr.contains("name it \(suggested)"), "\(refused.stderr)")
    }
    let combined = try await CLI.run(["tar", "y.tar.gz", "t", "--co"], in: directory)
    #expect(combined.status == 64, "\(combined.stderr)")
    #expect(combined.stderr.contains("--co cannot go with the output y.tar.gz"), "\(combined.stderr)")
    #expect(try Self.names(in: directory) == before, "a refused tar left files behind")
    // An uncompressed tar already named .tar.gz (GNU tar without -a) is told to be renamed.
    #expect(try await CLI.shell("tar -cf wrong.tar.gz -C t a.txt", in: directory).status == 0)
    for command in [["index", "wrong.tar.gz"], ["ls", "wrong.tar.gz"]] {
      let result = try await CLI.run(command, in: directory)
      #expect(result.status == 1, "\(command): \(result.stderr)")
      #expect(
        result.stderr.contains("it is an uncompressed tar named like a .tar.gz; rename it to wrong.tar (then 'cotar index wrong.tar' works)"),
        "\(command): \(result.stderr)")
    }
  }

  @Test("append refuses a .tar.gz (Cotar's or gzip's) before reading it, exit 1, nothing changed")
  func appendRefusesGzip() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.makeTree(in: directory)
    try Data("new\n".utf8).write(to: directory.appendingPathComponent("new.txt"))
    #expect(try await CLI.run(["tar", "w.tar.gz", "t", "--gzip", "--index"], in: directory).status == 0)
    #expect(try await CLI.run(["tar", "plain.tar", "t"], in: directory).status == 0)
    #expect(try await CLI.shell("gzip -c plain.tar > g.tgz", in: directory).status == 0)
    let files = ["w.tar.gz", "w.tar.gz.index", "g.tgz"]
    let before = try files.map { try Data(contentsOf: directory.appendingPathComponent($0)) }
    let listing = try Self.names(in: directory)
    for archive in ["w.tar.gz", "g.tgz", "missing.tar.gz"] {
      let refused = try await CLI.run(["append", archive, "new.txt"], in: directory)
      #expect(refused.status == 1, "\(archive): \(refused.stderr)")
      #expect(
        refused.stderr.contains("cotar: \(archive): append does not support gzip-compressed tars (.tar.gz, .tgz); write a new one with 'cotar tar NEW.tar.gz --gzip"),
        "\(refused.stderr)")
      #expect(!refused.stderr.contains("version"), "\(refused.stderr)")
    }
    #expect(try files.map { try Data(contentsOf: directory.appendingPathComponent($0)) } == before)
    #expect(try Self.names(in: directory) == listing)
  }

  @Test("get on a sidecar tar cut after indexing: the real end of the file and the stale-index remedy, exit 1")
  func truncatedSidecarTar() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.makeTree(in: directory)
    // GNU tar: t/ at 0 is not stored (no directories): a.txt's header at 0, b.bin's at 1024.
    #expect(try await CLI.shell("tar -cf full.tar -C t a.txt b.bin", in: directory).status == 0)
    for size in [512, 0, 2000] {
      let name = "cut\(size).tar"
      #expect(try await CLI.shell("cp full.tar \(name)", in: directory).status == 0)
      #expect(try await CLI.run(["index", name], in: directory).status == 0)
      #expect(try await CLI.shell("truncate -s \(size) \(name)", in: directory).status == 0)
      // To standard output, to a file (a kernel copy after the header check) and, when a.txt is
      // still whole, in a batch whose one read covers both.
      var commands = [["get", name, "b.bin"], ["get", name, "b.bin", "-o", "out\(size).bin"]]
      if size > 1024 { commands.append(["get", name, "a.txt", "b.bin", "-o", "dir\(size)"]) }
      for command in commands {
        let result = try await CLI.run(command, in: directory)
        #expect(result.status == 1, "\(command): \(result.stderr)")
        #expect(result.stderr.contains("entry 'b.bin'"), "\(command): \(result.stderr)")
        #expect(result.stderr.contains("the tar changed since it was indexed: file ends at byte \(size) but bytes up to 6536 were needed"), "\(command): \(result.stderr)")
        #expect(result.stderr.contains("rebuild it with 'cotar index \(name) --force'"), "\(command): \(result.stderr)")
      }
      #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out\(size).bin").path))
    }
  }
}
