import CotarCore
import CotarWriter
import Foundation
import Testing

@Suite("Writer: pack and shard sets")
struct WriterPackTests {
  /// 300 files of 0–3000 bytes in nested directories, a few duplicates and one big file.
  func makeTree(_ dir: WriterTempDir) throws -> [String: [UInt8]] {
    var seed: UInt64 = 42
    func next() -> UInt64 {
      seed = seed &* 6364136223846793005 &+ 1442695040888963407
      return seed >> 33
    }
    var files: [String: [UInt8]] = [:]
    for index in 0..<300 {
      let name = "gen/d\(index % 7)/s\(index % 3)/f\(index).bin"
      let count = Int(next() % 3000)
      files[name] = index % 50 == 0 ? Array("duplicate".utf8) : (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
    files["gen/huge.bin"] = [UInt8](repeating: 7, count: 40_000)
    files["gen/ünïcode/名前.txt"] = Array("utf8".utf8)
    for (name, bytes) in files { try dir.write(name, bytes) }
    return files
  }

  @Test(arguments: [true, false])
  func everyFileInExactlyOneShardWithinTheLimit(combined: Bool) async throws {
    let dir = try WriterTempDir()
    let files = try makeTree(dir)
    let inputs = try TarInputCollector(options: .init(base: dir.path)).collect(["gen"]).inputs
    let limit: UInt64 = 16 << 10
    let summary = try await CotarPacker.pack(
      inputs, options: .init(shardSize: limit, prefix: dir.at("out/p"), combined: combined),
      contentDigest: writerContentDigest, fileDigest: writerFileDigest, digest: writerDigest)
    let shards = summary.manifest.shards
    #expect(shards.count > 10)
    #expect(summary.warnings.count == 1)  // huge.bin
    for shard in shards {
      let onDisk = (try FileManager.default.attributesOfItem(atPath: dir.at("out/" + shard.name))[.size] as? NSNumber)?.uint64Value
      #expect(onDisk == shard.size)
      if shard.firstPath != Array("gen/huge.bin".utf8) { #expect(shard.totalSize <= limit, "\(shard.name)") }
    }
    // Every file: exactly one shard's range holds it, its tar lists it, and the set reads it.
    var listed: [String: Int] = [:]
    for (number, shard) in shards.enumerated() {
      var entries: [TarEntry] = []
      _ = try await TarScanner(source: try FileSource(path: dir.at("out/" + shard.name))).scan { entries.append($0) }
      for entry in entries { listed[entry.path, default: 0] += 1 }
      #expect(entries.allSatisfy { summary.manifest.shardIndex(for: $0.pathBytes) == number })
      // Each shard has its name table (in the .tar.co, or NAME.tar.names), listing its tar.
      let shardPath = dir.at("out/" + shard.name)
      let table: NameTable? =
        if combined {
          try await Cotar.open(try FileSource(path: shardPath)).nameTable()
        } else {
          try await NameTable.open(
            in: try FileSource(path: shardPath + ".names"), endingAt: try await FileSource(path: shardPath + ".names").size())
        }
      let opened = try #require(table, "\(shard.name) has no name table")
      let tablePaths = try await opened.entries(withPrefix: []).map(\.path)
      #expect(tablePaths == Set(entries.map(\.path)).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    }
    #expect(listed.count == files.count)
    #expect(listed.values.allSatisfy { $0 == 1 })
    let set = try await CotarShardSet.open(manifestPath: summary.manifestPath)
    for (name, bytes) in files { #expect(try await set.read(name) == bytes, "\(name)") }
    #expect(try await set.read("gen/missing") == nil)
    #expect(try await set.read("aaa") == nil)
    #expect(try await set.read("zzz") == nil)
  }

  @Test("gzip shards: .tar.gz with .tar.gz.index each, within the limit for random data, read through the set")
  func gzipShards() async throws {
    let dir = try WriterTempDir()
    let files = try makeTree(dir)
    let inputs = try TarInputCollector(options: .init(base: dir.path)).collect(["gen"]).inputs
    let limit: UInt64 = 96 << 10
    var options = CotarPacker.Options(shardSize: limit, prefix: dir.at("out/p"), combined: false)
    // Level 1 on random bytes: deflate can only grow them, the case the size bound is for.
    options.gzip = .init(memberSize: 64 << 10, level: 1)
    let summary = try await CotarPacker.pack(
      inputs, options: options, contentDigest: writerContentDigest, fileDigest: writerFileDigest, digest: writerDigest)
    let shards = summary.manifest.shards
    #expect(shards.count > 4)
    for shard in shards {
      #expect(shard.name.hasSuffix(".tar.gz") && shard.index == shard.name + ".index" && shard.isGzip)
      #expect(shard.files == [shard.name, shard.name + ".index"])
      let onDisk = try FileSource(path: dir.at("out/" + shard.name))
      #expect(try await onDisk.size() == shard.size)
      #expect(try await FileSource(path: dir.at("out/" + shard.name + ".index")).size() == shard.indexSize)
      #expect(shard.totalSize <= limit, "\(shard.name): \(shard.totalSize)")
      let opened = try await Cotar.open(gzip: onDisk, index: try FileSource(path: dir.at("out/" + shard.name + ".index")))
      #expect(opened.dataLimit == shard.uncompressedSize)
    }
    let parsed = try ShardManifest(parsing: summary.manifest.serialized())
    #expect(parsed == summary.manifest)
    let set = try await CotarShardSet.open(manifestPath: summary.manifestPath)
    for (name, bytes) in files { #expect(try await set.read(name) == bytes, "\(name)") }

    // gzip with .tar.co makes no sense.
    var combined = CotarPacker.Options(shardSize: limit, prefix: dir.at("co/p"), combined: true)
    combined.gzip = .init()
    await #expect { try await CotarPacker.pack(inputs, options: combined, contentDigest: nil, fileDigest: writerFileDigest, digest: writerDigest) } throws: {
      ($0 as? CotarError)?.code == .invalidArgument
    }
    // A compression this reader does not know, or a gzip shard without its index, is refused.
    let text = String(decoding: summary.manifest.serialized(), as: UTF8.self)
    for bad in [
      text.replacingOccurrences(of: "\"compression\": \"gzip\"", with: "\"compression\": \"zstd\""),
      text.replacingOccurrences(of: "\"index\": ", with: "\"index_was\": "),
    ] {
      #expect(throws: CotarError.self) { try ShardManifest(parsing: Array(bad.utf8)) }
    }
  }

  @Test("a file alone in its shard is reported only when the shard it gets really exceeds the limit, with its written size")
  func aloneWarningMatchesWrittenShard() async throws {
    let dir = try WriterTempDir()
    // A 6-byte file under a 297-byte path (PAX header, long name-table entry), a small file
    // before it, and a 5000-byte file that cannot fit a 4 KiB shard.
    let deep = "deep/" + (1...60).map { "dd\($0)" }.joined(separator: "/") + "/f"
    try dir.write("odd/a", "x\n")
    try dir.write("odd/" + deep, "hello\n")
    let inputs = try TarInputCollector(options: .init(base: dir.at("odd"))).collect(["."]).inputs
    func sizes(_ prefix: String, _ shard: ShardManifest.Shard) throws -> UInt64 {
      let base = dir.at(prefix + "/" + shard.name)
      return try [base, base + ".index", base + ".names"].reduce(UInt64(0)) {
        $0 + ((try FileManager.default.attributesOfItem(atPath: $1)[.size] as? NSNumber)?.uint64Value ?? 0)
      }
    }
    // 4096: the shard of the deep file is 3072 + 48 + 519 bytes; 3700: its size bound is
    // over the limit (so it is alone) but what is written is not.
    for (limit, prefix) in [(UInt64(4096), "p4096"), (3700, "p3700")] {
      let summary = try await CotarPacker.pack(
        inputs, options: .init(shardSize: limit, prefix: dir.at(prefix + "/p"), combined: false),
        contentDigest: writerContentDigest, fileDigest: writerFileDigest, digest: writerDigest)
      #expect(summary.warnings == [], "\(limit)")
      for shard in summary.manifest.shards { #expect(try sizes(prefix, shard) <= limit, "\(limit) \(shard.name)") }
    }
    try dir.write("odd/big", [UInt8](repeating: 1, count: 5000))
    let withBig = try TarInputCollector(options: .init(base: dir.at("odd"))).collect(["."]).inputs
    let summary = try await CotarPacker.pack(
      withBig, options: .init(shardSize: 4096, prefix: dir.at("big/p"), combined: false),
      contentDigest: writerContentDigest, fileDigest: writerFileDigest, digest: writerDigest)
    let big = try #require(summary.manifest.shards.first { $0.firstPath == Array("big".utf8) })
    #expect(big.lastPath == Array("big".utf8))
    let written = try sizes("big", big)
    #expect(written > 4096)
    #expect(
      summary.warnings == [
        "'big' alone makes a shard of \(written) bytes (.tar, .tar.index and .tar.names), more than the shard size 4096; it has a shard of its own"
      ])
  }

  @Test("names: false writes no name table (pack --no-names)")
  func packWithoutNames() async throws {
    let dir = try WriterTempDir()
    _ = try makeTree(dir)
    let inputs = try TarInputCollector(options: .init(base: dir.path)).collect(["gen/d2"]).inputs
    for combined in [true, false] {
      var options = CotarPacker.Options(shardSize: 1 << 20, prefix: dir.at("n\(combined)/p"), combined: combined)
      options.names = false
      let summary = try await CotarPacker.pack(inputs, options: options, contentDigest: nil, fileDigest: writerFileDigest, digest: writerDigest)
      for shard in summary.manifest.shards {
        let path = dir.at("n\(combined)/" + shard.name)
        if combined { #expect(try await Cotar.open(try FileSource(path: path)).nameTable() == nil) }
        #expect(!FileManager.default.fileExists(atPath: path + ".names"))
      }
    }
  }

  @Test func shardSetOverARangeSource() async throws {
    let dir = try WriterTempDir()
    _ = try makeTree(dir)
    let inputs = try TarInputCollector(options: .init(base: dir.path)).collect(["gen/d1"]).inputs
    let summary = try await CotarPacker.pack(
      inputs, options: .init(shardSize: 8 << 10, prefix: dir.at("p")), contentDigest: nil, fileDigest: writerFileDigest, digest: writerDigest)
    let manifest = MemorySource(try dir.read("p.manifest.json"))
    let root = dir.path
    let set = try await CotarShardSet.open(manifest: manifest) { name in
      MemorySource(Array(try Data(contentsOf: URL(fileURLWithPath: root + "/" + name))), identity: name)
    }
    #expect(set.manifest == summary.manifest)
    let first = try #require(inputs.first { $0.size > 0 })
    #expect(try await set.read(first.path)?.count == Int(first.size))
  }

  @Test func packingIsReproducible() async throws {
    let dir = try WriterTempDir()
    _ = try makeTree(dir)
    let inputs = try TarInputCollector(options: .init(base: dir.path)).collect(["gen"]).inputs
    for prefix in ["a/p", "b/p"] {
      _ = try await CotarPacker.pack(
        inputs, options: .init(shardSize: 64 << 10, prefix: dir.at(prefix)), contentDigest: writerContentDigest,
        fileDigest: writerFileDigest, digest: writerDigest)
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.at("a")).sorted()
    #expect(names == (try FileManager.default.contentsOfDirectory(atPath: dir.at("b")).sorted()))
    for name in names { #expect(try dir.read("a/" + name) == (try dir.read("b/" + name)), "\(name)") }
  }

  @Test func byteSizes() throws {
    #expect(try ByteSize.parse("12MiB") == 12 << 20)
    #expect(try ByteSize.parse("1GiB") == 1 << 30)
    #expect(try ByteSize.parse("100G") == 100_000_000_000)
    #expect(try ByteSize.parse("4096") == 4096)
    #expect(try ByteSize.parse("2 kb") == 2000)
    #expect(throws: CotarError.self) { try ByteSize.parse("12 parsecs") }
    #expect(throws: CotarError.self) { try ByteSize.parse("") }
    #expect(throws: CotarError.self) { try ByteSize.parse("99999999999TiB") }
  }

  @Test func manifestRoundTripAndRejection() throws {
    let manifest = ShardManifest(
      shardSizeLimit: 100,
      shards: [
        .init(name: "p-00000.tar.co", size: 90, entries: 2, members: 2, sha256: "ab", firstPath: Array("a".utf8), lastPath: Array("b\"q".utf8)),
        .init(name: "p-00001.tar", index: "p-00001.tar.index", size: 50, indexSize: 40, entries: 1, members: 1, sha256: "cd",
              indexSHA256: "ef", firstPath: [0x63, 0xFF], lastPath: [0x64]),
      ])
    let parsed = try ShardManifest(parsing: manifest.serialized())
    #expect(parsed == manifest)
    #expect(parsed.shardIndex(for: Array("a".utf8)) == 0)
    #expect(parsed.shardIndex(for: Array("b".utf8)) == 0)
    #expect(parsed.shardIndex(for: Array("bz".utf8)) == nil)
    #expect(parsed.shardIndex(for: [0x63, 0xFF, 0x01]) == 1)
    #expect(parsed.shardIndex(for: Array("e".utf8)) == nil)
    #expect(throws: CotarError.self) { try ShardManifest(parsing: Array("{\"format\": \"other\"}".utf8)) }
    let overlapping = String(decoding: manifest.serialized(), as: UTF8.self).replacingOccurrences(of: "\"d\"", with: "\"a\"")
      .replacingOccurrences(of: "\"first_hex\": \"63ff\"", with: "\"first\": \"a\"")
    #expect(throws: CotarError.self) { try ShardManifest(parsing: Array(overlapping.utf8)) }
    #expect(throws: CotarError.self) { try ShardManifest(parsing: Array("[[[[".utf8)) }
  }
}
