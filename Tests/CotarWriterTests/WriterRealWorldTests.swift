import CotarCore
import CotarWriter
import Foundation
import Testing

/// Issue 10 regressions for the writers.
@Suite("Writer: real-world inputs")
struct WriterRealWorldTests {
  @Test("append refuses an old index that holds a hash twice (it would drop members)")
  func appendRefusesRepeatedHash() async throws {
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "tree")
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    let path = dir.at("old.tar.co")
    _ = try await ReproducibleTar.write(
      try TarPlan.plan(inputs, digest: writerContentDigest), to: path, options: .init(combined: true))
    // Copy a filled slot into an empty one: the index now repeats that hash.
    var bytes = try dir.read("old.tar.co")
    let index = try await CotarIndex.trailing(in: MemorySource(bytes))
    let slotsStart = Int(index.baseOffset) + 8
    let slots = (0..<Int(index.slotCount)).map { slotsStart + $0 * 16 }
    let filled = try #require(slots.first { bytes[$0..<($0 + 8)].contains { $0 != 0 } })
    let empty = try #require(slots.first { !bytes[$0..<($0 + 16)].contains { $0 != 0 } })
    bytes.replaceSubrange(empty..<(empty + 16), with: bytes[filled..<(filled + 16)])
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    try dir.write("add/new.txt", "new\n")
    let added = try TarInputCollector(options: .init(base: dir.at("add"))).collect(["."]).inputs
    let error = await #expect(throws: CotarError.self) {
      try await ArchiveAppender.append(try TarPlan.plan(added, digest: writerContentDigest), to: path)
    }
    #expect(error?.code == .corruptIndex)
    #expect(error?.message.contains("twice") == true)
    #expect(try dir.read("old.tar.co") == bytes)  // untouched
  }

  @Test("tar, append and pack use automatic packing by default")
  func automaticPackingInWriters() async throws {
    let dir = try WriterTempDir()
    // The 52 names of Fixtures/probe-overflow.tar share one home slot at packing 25.
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Fixtures/probe-overflow.tar").path
    var names: [String] = []
    _ = try await TarScanner(source: FileSource(path: fixture)).scan { names.append($0.path) }
    #expect(names.count == 52)
    for name in names { try dir.write("tree/" + name, "") }
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(names).inputs
    let plan = try TarPlan.plan(inputs, digest: nil)
    let strict = await #expect(throws: CotarError.self) {
      try await ReproducibleTar.write(plan, to: dir.at("strict.tar.co"), options: .init(combined: true, index: .init(packing: 25)))
    }
    #expect(strict?.code == .indexTooDense)
    let summary = try await ReproducibleTar.write(plan, to: dir.at("auto.tar.co"), options: .init(combined: true))
    #expect(try #require(summary.index).packing > 25)
    let packed = try await CotarPacker.pack(
      inputs, options: .init(shardSize: 1 << 20, prefix: dir.at("shards/s")), contentDigest: nil,
      fileDigest: { _ in "" })
    #expect(packed.manifest.shards.count == 1)
  }

  @Test("a failed pack leaves no shard and no manifest")
  func failedPackLeavesNothing() async throws {
    let dir = try WriterTempDir()
    for index in 0..<40 { try dir.write(String(format: "tree/f%03d.bin", index), [UInt8](repeating: UInt8(index), count: 3000)) }
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    // The last file disappears after the walk: the run fails on the last shard.
    unlink(dir.at("tree/f039.bin"))
    try FileManager.default.createDirectory(atPath: dir.at("out"), withIntermediateDirectories: true)
    await #expect(throws: CotarError.self) {
      try await CotarPacker.pack(
        inputs, options: .init(shardSize: 16 << 10, prefix: dir.at("out/s")), contentDigest: nil, fileDigest: { _ in "" })
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.at("out")) == [])
  }

  @Test("pack --force removes the old manifest's shards that the new one does not list")
  func forceRemovesStaleShards() async throws {
    let dir = try WriterTempDir()
    for index in 0..<40 { try dir.write(String(format: "tree/f%03d.bin", index), [UInt8](repeating: UInt8(index), count: 3000)) }
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    let first = try await CotarPacker.pack(
      inputs, options: .init(shardSize: 16 << 10, prefix: dir.at("out/s"), combined: false), contentDigest: nil,
      fileDigest: { _ in "" })
    #expect(first.manifest.shards.count > 3)
    try dir.write("out/unrelated.txt", "keep me\n")
    let second = try await CotarPacker.pack(
      inputs, options: .init(shardSize: 1 << 20, prefix: dir.at("out/s"), combined: false, overwrite: true),
      contentDigest: nil, fileDigest: { _ in "" })
    #expect(second.manifest.shards.count == 1)
    let listing = try FileManager.default.contentsOfDirectory(atPath: dir.at("out")).sorted()
    #expect(listing == ["s-00000.tar", "s-00000.tar.index", "s.manifest.json", "unrelated.txt"])
  }
}
