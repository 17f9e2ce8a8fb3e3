import CotarCore
import CotarTestSupport
import CotarWriter
import Foundation
import Testing

/// `cotar index/get/ls/validate` on `.tar.gz` archives, locally and over HTTP, and
/// `cotar tar --gzip` checked with gzip, GNU tar, bsdtar and Python.
@Suite("cotar with .tar.gz archives", .timeLimit(.minutes(5)))
struct GzipCLITests {
  /// A tree of 120 files (text and random bytes, about 3.5 MB) and a GNU tar + gzip of it.
  static func makeArchive(in directory: URL) async throws -> [(path: String, bytes: [UInt8])] {
    try FileManager.default.createDirectory(at: directory.appendingPathComponent("t/a"), withIntermediateDirectories: true)
    var random = SplitMix64(seed: 2026)
    var files: [(String, [UInt8])] = []
    for number in 0..<120 {
      let size = Int(random.next() % 60_000)
      let bytes: [UInt8] = (0..<size).map { index in
        number % 2 == 0 ? UInt8(truncatingIfNeeded: random.next()) : UInt8(ascii: "a") + UInt8((index + number) % 19)
      }
      let path = "t/\(number % 3 == 0 ? "a/" : "")f\(number).bin"
      try Data(bytes).write(to: directory.appendingPathComponent(path))
      files.append((path, bytes))
    }
    let made = try await CLI.shell("tar cf - t | gzip > big.tar.gz", in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    return files
  }

  @Test("index, then get over HTTP: exact bytes in 4 requests, a small part of the archive transferred")
  func remoteGet() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let files = try await Self.makeArchive(in: directory)
    let indexed = try await CLI.run(["index", "big.tar.gz", "--seek-spacing", "128KiB"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    #expect(indexed.stderr.contains("seek point"), "\(indexed.stderr)")
    let archive = try [UInt8](Data(contentsOf: directory.appendingPathComponent("big.tar.gz")))
    let index = try [UInt8](Data(contentsOf: directory.appendingPathComponent("big.tar.gz.index")))
    try await withRangeServer { server in
      server.put("big.tar.gz", archive)
      server.put("big.tar.gz.index", index)
      for file in [files[7], files[64], files[119]] {
        server.resetLog()
        let result = try await CLI.run([
          "get", server.url("big.tar.gz"), file.path, "--index", server.url("big.tar.gz.index"), "--stats",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Array(result.stdout) == file.bytes)
        #expect(server.requestCount <= 4, "\(server.log)")
        // The archive's bytes: at most a seek-point spacing (compressed) plus the entry.
        let line = try #require(result.stderr.split(separator: "\n").first { $0.contains("big.tar.gz: ") })
        let bytes = try #require(Int(line.split(separator: " ")[4]))
        #expect(bytes < (128 << 10) + file.bytes.count + 4096, "\(line)")
      }
      // The sidecar is guessed from the URL too.
      let guessed = try await CLI.run(["get", server.url("big.tar.gz"), files[3].path])
      #expect(guessed.status == 0, "\(guessed.stderr)")
      #expect(Array(guessed.stdout) == files[3].bytes)
      // ls from the name table and validate, remotely.
      let listed = try await CLI.run(["ls", server.url("big.tar.gz"), "t/a"])
      #expect(listed.status == 0, "\(listed.stderr)")
      #expect(listed.stdoutText.split(separator: "\n").count == 40)
      let valid = try await CLI.run(["validate", server.url("big.tar.gz")])
      #expect(valid.status == 0, "\(valid.stderr)")
      #expect(valid.stdoutText.hasPrefix("valid: 120 entries"), "\(valid.stdoutText)")
    }
  }

  @Test("a batch get over HTTP reads each seek-point span once: entries of one span share a read, the whole archive is fetched at most once")
  func batchReadsEachSpanOnce() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let files = try await Self.makeArchive(in: directory)
    #expect(try await CLI.run(["index", "big.tar.gz", "--seek-spacing", "128KiB"], in: directory).status == 0)
    // Which entries share a span, as the library sees it.
    let local = try await Cotar.open(location: directory.appendingPathComponent("big.tar.gz").path)
    let gzip = try #require(local.data as? GzipTarSource)
    var bySpan: [Range<UInt64>: [String]] = [:]
    for file in files where !file.bytes.isEmpty {
      let entry = try #require(try await local.entry(file.path))
      bySpan[gzip.seekSpan(of: entry.range), default: []].append(file.path)
    }
    let group = try #require(bySpan.values.max { $0.count < $1.count })
    #expect(group.count >= 3)
    let archive = try [UInt8](Data(contentsOf: directory.appendingPathComponent("big.tar.gz")))
    try await withRangeServer { server in
      server.put("big.tar.gz", archive)
      server.put("big.tar.gz.index", try [UInt8](Data(contentsOf: directory.appendingPathComponent("big.tar.gz.index"))))
      let url = server.url("big.tar.gz")
      // No coalescing by gap: only the shared span joins these reads.
      let out = directory.appendingPathComponent("out").path
      let got = try await CLI.run(["get", url] + group + ["-o", out, "--coalesce-gap", "0"])
      #expect(got.status == 0, "\(got.stderr)")
      for path in group {
        #expect(FileManager.default.contents(atPath: out + "/" + path).map(Array.init) == files.first { $0.path == path }?.bytes)
      }
      let spanReads = server.log.filter { $0.path == "/big.tar.gz" }
      #expect(spanReads.count == 1, "\(spanReads)")
      // Everything: no compressed byte fetched twice.
      let list = directory.appendingPathComponent("all.txt")
      try Data(files.map(\.path).joined(separator: "\n").utf8).write(to: list)
      server.resetLog()
      let all = try await CLI.run(["get", url, "--paths-from", list.path, "-o", directory.appendingPathComponent("all").path])
      #expect(all.status == 0, "\(all.stderr)")
      let ranges = server.log.filter { $0.path == "/big.tar.gz" }.compactMap { log -> ClosedRange<Int>? in
        let bounds = (log.range ?? "").dropFirst("bytes=".count).split(separator: "-").compactMap { Int($0) }
        return bounds.count == 2 ? bounds[0]...bounds[1] : nil
      }.sorted { $0.lowerBound < $1.lowerBound }
      #expect(!ranges.isEmpty)
      #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound < $1.lowerBound }, "\(ranges)")
      #expect(ranges.reduce(0) { $0 + $1.count } <= archive.count)
    }
  }

  @Test("index of a remote .tar.gz transfers the archive once (spooled to an unlinked temporary file), twice without room for it")
  func remoteIndexOnePass() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    _ = try await Self.makeArchive(in: directory)
    #expect(try await CLI.run(["index", "big.tar.gz", "--seek-spacing", "128KiB"], in: directory).status == 0)
    let archive = try [UInt8](Data(contentsOf: directory.appendingPathComponent("big.tar.gz")))
    let local = try [UInt8](Data(contentsOf: directory.appendingPathComponent("big.tar.gz.index")))
    try FileManager.default.createDirectory(at: directory.appendingPathComponent("tmp"), withIntermediateDirectories: true)
    try await withRangeServer { server in
      server.put("big.tar.gz", archive)
      func archiveBytes(_ stderr: String) throws -> Int {
        let line = try #require(stderr.split(separator: "\n").first { $0.hasPrefix("stats: ") && $0.contains("big.tar.gz: ") })
        return try #require(Int(line.split(separator: " ")[4]))
      }
      // TMPDIR points into the test's directory: the spool must leave nothing there.
      let once = try await CLI.shell(
        "TMPDIR=\(directory.path)/tmp '\(CLI.executable.path)' index '\(server.url("big.tar.gz"))' -o remote.index --seek-spacing 128KiB --stats",
        in: directory)
      #expect(once.status == 0, "\(once.stderr)")
      #expect(try archiveBytes(once.stderr) <= archive.count + 16, "\(once.stderr)")
      #expect(try [UInt8](Data(contentsOf: directory.appendingPathComponent("remote.index"))) == local)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("tmp").path).isEmpty)
      // No usable temporary directory: the same index, from two passes over the network.
      let twice = try await CLI.shell(
        "TMPDIR=\(directory.path)/missing '\(CLI.executable.path)' index '\(server.url("big.tar.gz"))' -o remote2.index --seek-spacing 128KiB --stats",
        in: directory)
      #expect(twice.status == 0, "\(twice.stderr)")
      #expect(try archiveBytes(twice.stderr) > archive.count + archive.count / 2, "\(twice.stderr)")
      #expect(try [UInt8](Data(contentsOf: directory.appendingPathComponent("remote2.index"))) == local)
    }
  }

  @Test("ls, validate and get of a local .tar.gz; a replaced archive is refused")
  func local() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let files = try await Self.makeArchive(in: directory)
    #expect(try await CLI.run(["index", "big.tar.gz"], in: directory).status == 0)
    let listed = try await CLI.run(["ls", "big.tar.gz", "--tar-order"], in: directory)
    let gnu = try await CLI.shell("tar tzf big.tar.gz", in: directory)
    #expect(listed.stdoutText == gnu.stdoutText)
    let valid = try await CLI.run(["validate", "big.tar.gz"], in: directory)
    #expect(valid.status == 0, "\(valid.stderr)")
    let got = try await CLI.run(["get", "big.tar.gz", files[50].path], in: directory)
    #expect(Array(got.stdout) == files[50].bytes)
    // Another archive under the same name: the index no longer matches.
    #expect(try await CLI.shell("tar cf - t | gzip -1 > other.tar.gz && mv other.tar.gz big.tar.gz", in: directory).status == 0)
    let refused = try await CLI.run(["get", "big.tar.gz", files[50].path], in: directory)
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("does not match its .tar.gz.index"), "\(refused.stderr)")
    // Without an index, the error says how to make one.
    try FileManager.default.removeItem(at: directory.appendingPathComponent("big.tar.gz.index"))
    let missing = try await CLI.run(["get", "big.tar.gz", files[50].path], in: directory)
    #expect(missing.status != 0)
    #expect(missing.stderr.contains("cotar index"), "\(missing.stderr)")
  }

  @Test("tar --gzip writes multi-member gzip that gzip, GNU tar, bsdtar and Python read; its index has no windows")
  func writeGzip() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let files = try await Self.makeArchive(in: directory)
    let written = try await CLI.run(["tar", "out.tar.gz", "t", "--gzip", "--index", "--gzip-member-size", "256KiB"], in: directory)
    #expect(written.status == 0, "\(written.stderr)")
    #expect(try await CLI.run(["tar", "plain.tar", "t"], in: directory).status == 0)
    let checks = try await CLI.shell(
      """
      set -e
      gzip -t out.tar.gz
      gzip -dc out.tar.gz | cmp - plain.tar
      mkdir gnu bsd py
      tar xzf out.tar.gz -C gnu && diff -r gnu/t t
      bsdtar xzf out.tar.gz -C bsd && diff -r bsd/t t
      python3 -c "import tarfile; tarfile.open('out.tar.gz', 'r:gz').extractall('py')" && diff -r py/t t
      """, in: directory)
    #expect(checks.status == 0, "\(checks.stderr)")
    let index = try [UInt8](Data(contentsOf: directory.appendingPathComponent("out.tar.gz.index")))
    let parsed = try await GzipArchiveIndex.open(
      archive: FileSource(path: directory.appendingPathComponent("out.tar.gz").path), index: MemorySource(index))
    #expect(parsed.header.windowsLength == 0)
    #expect(parsed.tar.points.count > 8)
    #expect(parsed.tar.points.allSatisfy { $0.kind == .memberStart })
    for file in files.prefix(10) {
      let got = try await CLI.run(["get", "out.tar.gz", file.path], in: directory)
      #expect(Array(got.stdout) == file.bytes)
    }
  }

  @Test("pack --gzip: every shard passes gzip -t and extracts identically with GNU tar and Python; get reads it over HTTP in 4 requests")
  func packGzip() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let files = try await Self.makeArchive(in: directory)
    let limit = 1 << 20
    let packed = try await CLI.run(
      ["pack", "t", "--gzip", "--gzip-member-size", "64KiB", "--shard-size", "1MiB", "-o", "s/p"], in: directory)
    #expect(packed.status == 0, "\(packed.stderr)")
    let manifestPath = directory.appendingPathComponent("s/p.manifest.json").path
    let set = try await CotarShardSet.open(manifestPath: manifestPath)
    let shards = set.manifest.shards
    #expect(shards.count > 2)
    let onDisk = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("s").path).sorted()
    #expect(onDisk == (["p.manifest.json"] + shards.flatMap { [$0.name, $0.name + ".index"] }).sorted())
    for shard in shards {
      #expect(shard.isGzip && shard.name.hasSuffix(".tar.gz") && shard.index == shard.name + ".index", "\(shard)")
      #expect(shard.totalSize <= UInt64(limit), "\(shard.name)")
    }
    let names = shards.map { "s/" + $0.name }.joined(separator: " ")
    let checks = try await CLI.shell(
      """
      set -e
      mkdir gnu py
      for shard in \(names); do
        gzip -t "$shard"
        tar xzf "$shard" -C gnu
        python3 -c "import sys, tarfile; tarfile.open(sys.argv[1], 'r:gz').extractall('py')" "$shard"
      done
      diff -r gnu/t t
      diff -r py/t t
      """, in: directory)
    #expect(checks.status == 0, "\(checks.stderr)")
    // More than one gzip member per shard, so a read starts at a member near the entry.
    let first = try await GzipArchiveIndex.open(
      archive: FileSource(path: directory.appendingPathComponent("s/" + shards[0].name).path),
      index: FileSource(path: directory.appendingPathComponent("s/" + shards[0].name + ".index").path))
    #expect(first.tar.points.count > 2 && first.header.windowsLength == 0)

    let local = try await CLI.run(["get", "s/p.manifest.json", files[5].path, files[100].path], in: directory)
    #expect(local.status == 0, "\(local.stderr)")
    #expect(Array(local.stdout) == files[5].bytes + files[100].bytes)

    try await withRangeServer { server in
      for name in onDisk {
        server.put("sets/" + name, Array(try Data(contentsOf: directory.appendingPathComponent("s/" + name))))
      }
      for file in [files[1], files[61], files[118]] {
        server.resetLog()
        let got = try await CLI.run(["get", server.url("sets/p.manifest.json"), file.path, "--stats"])
        #expect(got.status == 0, "\(got.stderr)")
        #expect(Array(got.stdout) == file.bytes)
        // The manifest, then the shard's index prefix, a v2 slot window (none when the prefix
        // held the whole index) and the compressed bytes from the member before the entry.
        let shardRequests = server.log.filter { !$0.path.hasSuffix(".manifest.json") }
        #expect(shardRequests.count <= 4, "\(server.log.map(\.path))")
        let shardBytes = got.stderr.split(separator: "\n").filter { $0.contains(".tar.gz: ") }
        let bytes = try #require(shardBytes.first.flatMap { Int($0.split(separator: " ")[4]) }, "\(got.stderr)")
        #expect(bytes < (64 << 10) * 2 + file.bytes.count + 4096, "\(got.stderr)")
      }
    }

    // Options that make no sense together are usage errors.
    let withCo = try await CLI.run(["pack", "t", "--gzip", "--co", "--shard-size", "1MiB", "-o", "x/p"], in: directory)
    #expect(withCo.status == 64)
    #expect(withCo.stderr.contains("--gzip and --co exclude each other"), "\(withCo.stderr)")
    let levelAlone = try await CLI.run(["pack", "t", "--gzip-level", "9", "--shard-size", "1MiB", "-o", "x/p"], in: directory)
    #expect(levelAlone.status == 64)
    #expect(levelAlone.stderr.contains("apply only with --gzip"), "\(levelAlone.stderr)")
    let tiny = try await CLI.run(["tar", "x.tar.gz", "t", "--gzip", "--gzip-member-size", "1KiB"], in: directory)
    #expect(tiny.status == 64)
    #expect(tiny.stderr.contains("--gzip-member-size must be from 64KiB to 1GiB"), "\(tiny.stderr)")
  }

  @Test("--seek-spacing out of range or unreadable is a usage error (exit 64) before any archive is read", arguments: ["1KiB", "2GiB", "lots"])
  func seekSpacingIsAUsageError(spacing: String) async throws {
    let result = try await CLI.run(["index", "nowhere.tar.gz", "--seek-spacing", spacing])
    #expect(result.status == 64, "\(result.stderr)")
    let expected = spacing == "lots" ? "The value 'lots' is invalid for '--seek-spacing <size>'" : "--seek-spacing must be from 64KiB to 1GiB"
    #expect(result.stderr.contains(expected), "\(result.stderr)")
    #expect(result.stderr.contains("Usage:"), "\(result.stderr)")
  }
}
