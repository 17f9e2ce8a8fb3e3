import CotarCore
import CotarWriter
import Foundation
import Testing

/// `pack` over an existing set: shard names hold a hash of the shard's bytes (SPEC §9.3), so
/// a failed `--force` run leaves the existing set as it was and nothing new behind.
@Suite("Writer: pack --force and content-named shards")
struct WriterPackForceTests {
  enum Layout: String, CaseIterable, Sendable { case co, tar, gzip }

  static func options(_ layout: Layout, _ dir: WriterTempDir, overwrite: Bool) -> CotarPacker.Options {
    var options = CotarPacker.Options(shardSize: 16 << 10, prefix: dir.at("out/s"), combined: layout == .co, overwrite: overwrite)
    if layout == .gzip { options.gzip = .init() }
    return options
  }

  /// 40 files `tree/fNNN.bin` of 3000 bytes each, every byte `fill(NNN)`.
  static func writeTree(_ dir: WriterTempDir, fill: (Int) -> UInt8) throws {
    for index in 0..<40 { try dir.write(Self.path(index, in: "tree/"), [UInt8](repeating: fill(index), count: 3000)) }
  }

  static func path(_ index: Int, in directory: String = "") -> String { directory + String(format: "f%03d.bin", index) }

  /// Every entry of `out/` with its bytes (a directory left there fails the read).
  static func snapshot(_ dir: WriterTempDir) throws -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: dir.at("out")) { files[name] = try dir.read("out/" + name) }
    return files
  }

  static func pack(_ dir: WriterTempDir, _ options: CotarPacker.Options) async throws -> CotarPacker.Summary {
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    return try await CotarPacker.pack(
      inputs, options: options, contentDigest: nil, fileDigest: writerFileDigest, digest: writerDigest)
  }

  @Test("a --force run that fails once its shards are in place leaves the existing set as it was", arguments: Layout.allCases)
  func failedForceLeavesTheOldSet(layout: Layout) async throws {
    let dir = try WriterTempDir()
    try Self.writeTree(dir) { UInt8($0) }
    let old = try await Self.pack(dir, Self.options(layout, dir, overwrite: false))
    #expect(old.manifest.shards.count > 3)
    let before = try Self.snapshot(dir)

    // The same paths with other bytes; the run fails after moving every new shard into place.
    try Self.writeTree(dir) { UInt8($0) &+ 100 }
    var options = Self.options(layout, dir, overwrite: true)
    options.failpoint = { step in
      if step == .shardsPublished { throw CotarError(.io, "injected failure at \(step.rawValue)") }
    }
    let failure = await #expect(throws: CotarError.self) { try await Self.pack(dir, options) }
    #expect(failure?.code == .io)
    #expect(failure?.message.contains("injected failure at shards-published") == true, "\(String(describing: failure))")

    #expect(try Self.snapshot(dir) == before)
    let set = try await CotarShardSet.open(manifestPath: dir.at("out/s.manifest.json"))
    #expect(set.manifest == old.manifest)
    for index in 0..<40 {
      #expect(try await set.read(Self.path(index)) == [UInt8](repeating: UInt8(index), count: 3000), "\(Self.path(index))")
    }
  }

  @Test("a shard's name is a hash of its files: the same inputs give the same names, other bytes another name")
  func namesFollowTheBytes() async throws {
    let dir = try WriterTempDir()
    try Self.writeTree(dir) { UInt8($0) }
    let first = try await Self.pack(dir, Self.options(.tar, dir, overwrite: false))
    #expect(first.manifest.shards.count > 3)
    for (number, shard) in first.manifest.shards.enumerated() {
      // The shard, its index and its name table, each digest on a line.
      #expect(shard.files == [shard.name, shard.name + ".index", shard.name + ".names"])
      let lines = try shard.files.map { try writerFileDigest(dir.at("out/" + $0)) + "\n" }.joined()
      #expect(shard.name == String(format: "s-%05d-", number) + writerDigest(Array(lines.utf8)).prefix(16) + ".tar")
      #expect(shard.sha256 == (try writerFileDigest(dir.at("out/" + shard.name))))
      #expect(shard.indexSHA256 == (try writerFileDigest(dir.at("out/" + shard.name + ".index"))))
    }

    let again = try await Self.pack(dir, Self.options(.tar, dir, overwrite: true))
    #expect(again.manifest == first.manifest)

    // One file changes: only its shard gets a new name, and the old one goes after success.
    try dir.write("tree/" + Self.path(13), [UInt8](repeating: 200, count: 3000))
    let changed = try await Self.pack(dir, Self.options(.tar, dir, overwrite: true))
    let renamed = zip(first.manifest.shards, changed.manifest.shards).filter { $0.name != $1.name }
    #expect(renamed.count == 1)
    let holder = try #require(changed.manifest.shardIndex(for: Array(Self.path(13).utf8)))
    #expect(renamed.first?.1.name == changed.manifest.shards[holder].name)
    let expected = Set(changed.manifest.shards.flatMap(\.files) + ["s.manifest.json"])
    #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.at("out"))) == expected)
  }

  @Test("without --force an existing manifest, or a shard file of the same name, is refused and left alone")
  func refusesExistingOutputs() async throws {
    let dir = try WriterTempDir()
    try Self.writeTree(dir) { UInt8($0) }
    let first = try await Self.pack(dir, Self.options(.co, dir, overwrite: false))
    let manifestExists = await #expect(throws: CotarError.self) { try await Self.pack(dir, Self.options(.co, dir, overwrite: false)) }
    #expect(manifestExists?.code == .outputExists)
    #expect(manifestExists?.source == dir.at("out/s.manifest.json"))

    unlink(dir.at("out/s.manifest.json"))
    let before = try Self.snapshot(dir)
    let shardExists = await #expect(throws: CotarError.self) { try await Self.pack(dir, Self.options(.co, dir, overwrite: false)) }
    #expect(shardExists?.code == .outputExists)
    #expect(shardExists?.source == dir.at("out/" + (first.manifest.shards.first?.name ?? "")))
    #expect(try Self.snapshot(dir) == before)
  }

  @Test("--force over a manifest that cannot be read fails before it writes anything")
  func unreadableOldManifest() async throws {
    let dir = try WriterTempDir()
    try Self.writeTree(dir) { UInt8($0) }
    try FileManager.default.createDirectory(atPath: dir.at("out/s.manifest.json"), withIntermediateDirectories: true)
    let failure = await #expect(throws: CotarError.self) { try await Self.pack(dir, Self.options(.co, dir, overwrite: true)) }
    #expect(failure?.code == .io, "\(String(describing: failure))")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.at("out")) == ["s.manifest.json"])
  }
}
