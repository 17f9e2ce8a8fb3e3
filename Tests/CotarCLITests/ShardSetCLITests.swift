import CotarCore
import CotarTestSupport
import CotarWriter
import Foundation
import Testing

/// `cotar get MANIFEST PATH…`: reading through a `cotar pack` manifest, local and over HTTP.
@Suite(.timeLimit(.minutes(5)))
struct ShardSetCLITests {
  /// `cotar` in `directory`, waited for off the cooperative threads.
  static func cotar(_ arguments: [String], in directory: URL? = nil) async throws -> ProcessResult {
    try await ProcessRunner.runDetached(CLI.executable.path, arguments, in: directory?.path)
  }

  /// 60 files under `data/`, packed into several shards under `shards/p`; the directory.
  static func packed(co: Bool) async throws -> URL {
    let directory = try treeOfSixty()
    let run = try await Self.cotar(["pack", "data", "--shard-size", "8KiB", "-o", "shards/p"] + (co ? ["--co"] : []), in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    return directory
  }

  /// A new temporary directory holding 60 small files under `data/` (``path(_:)``,
  /// ``content(_:)``).
  static func treeOfSixty() throws -> URL {
    let directory = try CLI.temporaryDirectory()
    for index in 0..<60 {
      let url = directory.appendingPathComponent(path(index))
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(content(index)).write(to: url)
    }
    return directory
  }

  static func content(_ index: Int) -> [UInt8] { Array(String(repeating: "\(index)", count: 300).utf8) }
  static func path(_ index: Int) -> String { "data/f\(index / 10)/x\(index).txt" }

  @Test(arguments: [true, false])
  func packShardNamesAreTheHashOfSpecSection9_3(co: Bool) async throws {
    let directory = try await Self.packed(co: co)
    defer { try? FileManager.default.removeItem(at: directory) }
    let manifestPath = directory.path + "/shards/p.manifest.json"
    let manifest = try await CotarShardSet.open(manifestPath: manifestPath).manifest
    #expect(manifest.shards.count > 3)
    for (number, shard) in manifest.shards.enumerated() {
      // SPEC §9.3's shell line, with sha256sum.
      let files = shard.files.map { "shards/" + $0 }.joined(separator: " ")
      let hash = try await CLI.shell(#"printf '%s\n' $(sha256sum \#(files) | cut -c1-64) | sha256sum | cut -c1-16"#, in: directory)
      #expect(hash.status == 0, "\(hash.stderr)")
      let expected = String(format: "p-%05d-", number) + hash.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) + (co ? ".tar.co" : ".tar")
      #expect(shard.name == expected)
    }
    // A second run over the same inputs writes the same manifest: re-running pack is idempotent.
    let before = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
    let again = try await Self.cotar(["pack", "data", "--shard-size", "8KiB", "-o", "shards/p", "--force"] + (co ? ["--co"] : []), in: directory)
    #expect(again.status == 0, "\(again.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: manifestPath)) == before)
  }

  @Test func packForceThatCrashesBeforeItsManifestLeavesTheOldSetReadable() async throws {
    let directory = try await Self.packed(co: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    let shards = directory.appendingPathComponent("shards")
    let old = try await CotarShardSet.open(manifestPath: shards.path + "/p.manifest.json").manifest
    var before: [String: Data] = [:]
    for name in old.shards.flatMap(\.files) { before[name] = try Data(contentsOf: shards.appendingPathComponent(name)) }
    #expect(before.count > 9)

    // The same paths with other bytes; the run dies (no cleanup) once its shards are in place.
    for index in 0..<60 {
      try Data(Array("B".utf8) + Self.content(index)).write(to: directory.appendingPathComponent(Self.path(index)))
    }
    let crashed = try await ProcessRunner.runDetached(
      CLI.executable.path, ["pack", "data", "--shard-size", "8KiB", "-o", "shards/p", "--force"], in: directory.path,
      environment: ["COTAR_FAIL_AT": "shards-published"])
    #expect(crashed.status == 86, "\(crashed.stderr)")

    // Every file the old manifest lists has its bytes, and the old set reads as before.
    for (name, bytes) in before { #expect(try Data(contentsOf: shards.appendingPathComponent(name)) == bytes, "\(name)") }
    let got = try await Self.cotar(["get", "shards/p.manifest.json"] + (0..<60).map(Self.path), in: directory)
    #expect(got.status == 0, "\(got.stderr)")
    #expect(Array(got.stdout) == (0..<60).flatMap(Self.content))
  }

  @Test(arguments: [true, false])
  func getThroughALocalManifest(co: Bool) async throws {
    let directory = try await Self.packed(co: co)
    defer { try? FileManager.default.removeItem(at: directory) }
    let set = try await CotarShardSet.open(manifestPath: directory.path + "/shards/p.manifest.json")
    #expect(set.manifest.shards.count > 3)
    // Paths from different shards, out of order: written in the order given.
    let wanted = [55, 3, 31, 4]
    #expect(Set(wanted.map { set.shardIndex(for: Array(Self.path($0).utf8)) }).count >= 3)
    let got = try await Self.cotar(["get", "shards/p.manifest.json"] + wanted.map(Self.path), in: directory)
    #expect(got.status == 0, "\(got.stderr)")
    #expect(Array(got.stdout) == wanted.flatMap(Self.content))

    // Into a directory, shard by shard.
    let extracted = try await Self.cotar(["get", "shards/p.manifest.json", "-o", "out"] + wanted.map(Self.path), in: directory)
    #expect(extracted.status == 0, "\(extracted.stderr)")
    for index in wanted {
      #expect(try Array(Data(contentsOf: directory.appendingPathComponent("out/" + Self.path(index)))) == Self.content(index))
    }

    // A path in no shard's range, and one inside a range but not stored: both reported, exit 1.
    let missing = try await Self.cotar(["get", "shards/p.manifest.json", "zzz/none", "data/f2/x20.txt", "data/f2/nope"], in: directory)
    #expect(missing.status == 1)
    #expect(Array(missing.stdout) == Self.content(20))
    #expect(missing.stderr.contains("'zzz/none' is not in shards/p.manifest.json"), "\(missing.stderr)")
    #expect(missing.stderr.contains("'data/f2/nope' is not in shards/p.manifest.json"), "\(missing.stderr)")

    let withIndex = try await Self.cotar(["get", "shards/p.manifest.json", "--index", "x.index", Self.path(1)], in: directory)
    #expect(withIndex.status != 0)
    #expect(withIndex.stderr.contains("--index does not apply to a shard-set manifest"), "\(withIndex.stderr)")
  }

  @Test func getThroughAManifestOverHTTP() async throws {
    let directory = try await Self.packed(co: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    let shards = directory.appendingPathComponent("shards")
    for name in try FileManager.default.contentsOfDirectory(atPath: shards.path) {
      server.put("sets/" + name, Array(try Data(contentsOf: shards.appendingPathComponent(name))))
    }
    let manifest = server.url("sets/p.manifest.json")
    let got = try await Self.cotar(["get", manifest, Self.path(42), Self.path(7), "--stats"])
    #expect(got.status == 0, "\(got.stderr)")
    #expect(Array(got.stdout) == Self.content(42) + Self.content(7))
    // The manifest, then two .tar shards each with its .tar.index sidecar.
    #expect(got.stderr.contains("stats: \(manifest): 1 request, "), "\(got.stderr)")
    #expect(got.stderr.split(separator: "\n").filter { $0.contains(".tar.index:") }.count == 2, "\(got.stderr)")
    #expect(server.log.allSatisfy { $0.path.hasPrefix("/sets/p") }, "\(server.log.map(\.path))")
  }

  @Test("pack stopped by SIGINT or SIGTERM once its shards are staged removes the staging directory and the shards in it")
  func interruptedPackLeavesNoStagingDirectory() async throws {
    let directory = try Self.treeOfSixty()
    defer { try? FileManager.default.removeItem(at: directory) }
    for signalNumber in [SIGINT, SIGTERM] {
      let (_, status) = try await CLI.interrupt(
        ["pack", "data", "--shard-size", "8KiB", "-o", "shards/p", "--force"], in: directory.path,
        pausedAt: "shards-staged", with: signalNumber)
      #expect(status == 128 + signalNumber, "signal \(signalNumber)")
      let left = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("shards").path)
      #expect(left.isEmpty, "signal \(signalNumber): \(left)")
    }
  }
}
