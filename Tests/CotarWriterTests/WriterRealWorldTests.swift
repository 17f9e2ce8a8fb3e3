import CotarCore
import CotarWriter
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

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
      fileDigest: writerFileDigest, digest: writerDigest)
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
        inputs, options: .init(shardSize: 16 << 10, prefix: dir.at("out/s")), contentDigest: nil, fileDigest: writerFileDigest, digest: writerDigest)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.at("out")) == [])
  }

  @Test("a staging directory left by a killed pack is removed by the next pack to the same prefix")
  func staleStagingDirectory() async throws {
    let dir = try WriterTempDir()
    try dir.write("tree/a.txt", "a\n")
    try dir.write("out/.s.staging-Ab12Cd/s-00000.tar.co", "partial")
    var old = utimbuf(actime: time(nil) - 60, modtime: time(nil) - 60)
    utime(dir.at("out/.s.staging-Ab12Cd"), &old)
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    let packed = try await CotarPacker.pack(
      inputs, options: .init(shardSize: 1 << 20, prefix: dir.at("out/s")), contentDigest: nil, fileDigest: writerFileDigest, digest: writerDigest)
    let name = try #require(packed.manifest.shards.first?.name)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.at("out")).sorted() == [name, "s.manifest.json"])
  }

  @Test("pack --force removes the old manifest's shards that the new one does not list")
  func forceRemovesStaleShards() async throws {
    let dir = try WriterTempDir()
    for index in 0..<40 { try dir.write(String(format: "tree/f%03d.bin", index), [UInt8](repeating: UInt8(index), count: 3000)) }
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    let first = try await CotarPacker.pack(
      inputs, options: .init(shardSize: 16 << 10, prefix: dir.at("out/s"), combined: false), contentDigest: nil,
      fileDigest: writerFileDigest, digest: writerDigest)
    #expect(first.manifest.shards.count > 3)
    try dir.write("out/unrelated.txt", "keep me\n")
    let second = try await CotarPacker.pack(
      inputs, options: .init(shardSize: 1 << 20, prefix: dir.at("out/s"), combined: false, overwrite: true),
      contentDigest: nil, fileDigest: writerFileDigest, digest: writerDigest)
    #expect(second.manifest.shards.count == 1)
    let listing = try FileManager.default.contentsOfDirectory(atPath: dir.at("out")).sorted()
    // The stale shards' name tables (NAME.tar.names) go with them.
    let shard = try #require(second.manifest.shards.first)
    #expect(listing == [shard.name, shard.name + ".index", shard.name + ".names", "s.manifest.json", "unrelated.txt"])
  }

  @Test("an input named through a symlinked directory that leads out of the base is refused")
  func noEscapeThroughSymlinkedDirectory() throws {
    let dir = try WriterTempDir()
    try dir.write("outside/inner", "secret\n")
    try dir.write("base/kept.txt", "kept\n")
    try dir.symlink("base/ln_dir", to: dir.at("outside"))
    let collector = TarInputCollector(options: .init(base: dir.at("base")))
    let error = #expect(throws: CotarError.self) { try collector.collect(["ln_dir/inner"]) }
    #expect(error?.code == .invalidArgument)
    #expect(error?.message.contains("outside the base") == true)
    // The link itself is archived as a link, never followed.
    let inputs = try collector.collect(["ln_dir", "kept.txt"]).inputs
    #expect(inputs.map(\.path) == ["kept.txt", "ln_dir"])
    #expect(inputs.last?.kind == .symbolicLink(target: Array(dir.at("outside").utf8)))
  }

  @Test("a file swapped for a symlink or a FIFO after the walk is refused, without hanging", .timeLimit(.minutes(5)))
  func swappedInputsAreRefused() async throws {
    for swap in ["symlink", "fifo", "other-file"] {
      let dir = try WriterTempDir()
      try dir.write("tree/a.txt", "a\n")
      try dir.write("tree/b.txt", "b\n")
      try dir.write("elsewhere.txt", "not yours\n")
      let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
      // Keep the old inode alive (outside the tree) so a new file cannot reuse its number.
      #expect(rename(dir.at("tree/b.txt"), dir.at("b.old")) == 0)
      switch swap {
      case "symlink": try dir.symlink("tree/b.txt", to: dir.at("elsewhere.txt"))
      case "fifo": #expect(mkfifo(dir.at("tree/b.txt"), 0o644) == 0)
      default: try dir.write("tree/b.txt", "b\n")  // a new inode with the same content and size
      }
      let error = await #expect(throws: CotarError.self, "\(swap)") {
        try await ReproducibleTar.write(try TarPlan.plan(inputs, digest: nil), to: dir.at("out.tar"), options: .init())
      }
      #expect(error?.code == .io, "\(swap)")
      #expect(error?.path == "b.txt", "\(swap)")
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["b.old", "elsewhere.txt", "tree"], "\(swap)")
    }
  }

  @Test("writers refuse to replace one of their inputs")
  func outputIsAnInput() async throws {
    let dir = try WriterTempDir()
    try dir.write("tree/a.txt", "a\n")
    try dir.write("tree/b.txt", "b\n")
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    let error = await #expect(throws: CotarError.self) {
      try await ReproducibleTar.write(
        try TarPlan.plan(inputs, digest: nil), to: dir.at("tree/b.txt"), options: .init(overwrite: true))
    }
    #expect(error?.code == .invalidArgument)
    #expect(try dir.read("tree/b.txt") == Array("b\n".utf8))
  }

  @Test("append through a symlink updates the archive it points to and keeps the link")
  func appendThroughSymlink() async throws {
    let dir = try WriterTempDir()
    try dir.write("tree/a.txt", "a\n")
    try dir.write("add/new.txt", "new\n")
    let tree = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    _ = try await ReproducibleTar.write(try TarPlan.plan(tree, digest: nil), to: dir.at("real.tar.co"), options: .init(combined: true))
    try dir.symlink("link.tar.co", to: "real.tar.co")
    let added = try TarInputCollector(options: .init(base: dir.at("add"))).collect(["new.txt"]).inputs
    _ = try await ArchiveAppender.append(try TarPlan.plan(added, digest: nil), to: dir.at("link.tar.co"))
    var info = stat()
    #expect(lstat(dir.at("link.tar.co"), &info) == 0)
    #expect(info.st_mode & S_IFMT == S_IFLNK)
    let cotar = try await Cotar.open(try FileSource(path: dir.at("real.tar.co")))
    #expect(try await cotar.read("new.txt") == Array("new\n".utf8))
  }

  @Test("stray temporary files of a killed run are removed by the next run; a live writer's are kept")
  func strayTemporaryFiles() async throws {
    let dir = try WriterTempDir()
    try dir.write("tree/a.txt", "a\n")
    try dir.write(".out.tar.cotar-tmp-AbC123", "left by a killed run")
    try dir.write(".out.tar.cotar-tmp-Live99", "a live writer's")
    try dir.write(".other.tar.cotar-tmp-XyZ789", "another output's")
    // Abandoned means unchanged for 2 s by the status-change time, which no call can set back.
    try await Task.sleep(for: .milliseconds(2100))
    let live = open(dir.at(".out.tar.cotar-tmp-Live99"), O_RDONLY)
    #expect(live >= 0)
    defer { close(live) }
    #expect(flock(live, LOCK_EX) == 0)
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    _ = try await ReproducibleTar.write(try TarPlan.plan(inputs, digest: nil), to: dir.at("out.tar"), options: .init())
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    #expect(names == [".other.tar.cotar-tmp-XyZ789", ".out.tar.cotar-tmp-Live99", "out.tar", "tree"])
  }
}
