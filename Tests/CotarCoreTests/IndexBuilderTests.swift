import CotarCore
import CotarTestSupport
import Foundation
import Testing

@Suite("Index builder")
struct IndexBuilderTests {
  /// The 4-slot index from linz/cotar's binary test suite.
  static let linzVector = "Q09UAgQAAAB0wPmDP22WfQIAAAAIAAAAAAAAAAAAAAAAAAAAAAAAACZjB1u0iLSnAAAAAAEAAAC/I5YiYFMqNwEAAAAEAAAAQ09UAgQAAAA="

  @Test("reproduces the linz/cotar 4-slot test vector")
  func linzGoldenVector() async throws {
    // The vector's data offsets (0, 512, 1024) are not a real tar's, so feed the entries directly.
    var builder = try CotarIndexBuilder()
    let entries: [(String, UInt64, UInt64)] = [
      ("tiles/0/0/0.pbf.gz", 0, 1), ("tiles/1/1/1.pbf.gz", 512, 4), ("tiles/1/1/2.pbf.gz", 1024, 8),
    ]
    for (offset, (path, data, size)) in entries.enumerated() {
      try builder.add(TarEntry(pathBytes: Array(path.utf8), kind: .file, headerOffset: UInt64(offset) * 4096, dataOffset: data, size: size))
    }
    let built = try await builder.build { _ in [] }
    #expect(built.bytes == [UInt8](try #require(Data(base64Encoded: Self.linzVector))))
    #expect(built.stats.slots == 4)
    #expect(built.stats.files == 3)
  }

  @Test("matches the reference index byte for byte", arguments: FixtureManifest.indexed)
  func matchesReference(fixture: FixtureManifest.Fixture) async throws {
    let index = try #require(fixture.index)
    let result = try await CotarIndexBuilder.build(tar: FileSource(path: fixturePath(fixture.name)))
    #expect(result.index.bytes == (try fixtureBytes(index)))
    #expect(result.index.stats.files == fixture.entries?.count)
    #expect(result.index.stats.slots == fixture.slots)
    #expect(result.scan.skippedCount == fixture.skipped)
  }

  @Test("with a fixed packing, a probe run longer than max search fails and names the entry and a remedy")
  func probeOverflow() async throws {
    let error = await #expect(throws: CotarError.self) {
      try await CotarIndexBuilder.build(tar: FileSource(path: fixturePath("probe-overflow.tar")), options: .init(packing: 25))
    }
    #expect(error?.code == .indexTooDense)
    #expect(error?.path?.hasPrefix("probe/") == true)
    #expect(error?.message.contains("--packing") == true)
    let relaxed = try await CotarIndexBuilder.build(
      tar: FileSource(path: fixturePath("probe-overflow.tar")), options: .init(packing: 25, maxSearch: 51))
    #expect(relaxed.index.stats.longestProbe == 51)
  }

  @Test("the default packing is recovered from small tables too (one entry in two slots fits any packing from 1 to 100)",
    arguments: [1, 2, 3, 4, 7, 40])
  func packingOfSmallTables(files: Int) async throws {
    var tar = TestTar()
    for number in 0..<files { tar.add("f\(number).txt", "\(number)\n") }
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tar.finished))
    #expect(built.index.stats.packing == 25)
    let index = try await CotarIndex.open(sidecar: MemorySource(built.index.bytes))
    #expect(try await index.statistics().packing == 25)
  }

  @Test("automatic packing (the default) raises the packing in steps until the probe limit holds")
  func automaticPacking() async throws {
    let result = try await CotarIndexBuilder.build(tar: FileSource(path: fixturePath("probe-overflow.tar")))
    let stats = result.index.stats
    #expect(stats.automaticPacking)
    #expect(stats.packing > 25)
    #expect(stats.packing.truncatingRemainder(dividingBy: CotarIndexBuilder.Options.automaticPackingStep) == 0)
    #expect(stats.longestProbe <= 50)
    #expect(stats.slots == Int((52 * (1 + stats.packing / 100)).rounded(.up)))
    // The same packing, given explicitly, gives the same bytes (and is what `info` reports).
    let fixed = try await CotarIndexBuilder.build(
      tar: FileSource(path: fixturePath("probe-overflow.tar")), options: .init(packing: stats.packing))
    #expect(fixed.index.bytes == result.index.bytes)
    #expect(!fixed.index.stats.automaticPacking)
    let index = try await CotarIndex.open(sidecar: MemorySource(result.index.bytes))
    #expect(try await index.statistics().packing == stats.packing)
    // Where packing 25 fits, automatic packing gives exactly the fixed-packing bytes.
    let fits = try await CotarIndexBuilder.build(tar: FileSource(path: fixturePath("probe-max.tar")))
    #expect(fits.index.stats.packing == 25)
    #expect(fits.index.bytes == (try fixtureBytes("probe-max.tar.index")))
  }

  @Test("exactly max search probes is allowed")
  func probeAtLimit() async throws {
    let result = try await CotarIndexBuilder.build(tar: FileSource(path: fixturePath("probe-max.tar")))
    #expect(result.index.stats.longestProbe == 50)
  }

  @Test("the last occurrence of a repeated path wins")
  func duplicatesLastWins() async throws {
    var tar = TestTar()
    tar.add("same.txt", "first")
    tar.add("other.txt", "x")
    tar.add("same.txt", "second!")
    let archive = tar.finished
    let built = try await buildIndex(archive)
    #expect(built.stats.files == 2)
    #expect(built.stats.duplicatesDropped == 1)
    let cotar = try await Cotar.open(tar: MemorySource(archive), index: MemorySource(built.bytes))
    #expect(try await cotar.read("same.txt") == Array("second!".utf8))
  }

  @Test("two different paths with one hash are a collision naming both")
  func hashCollision() async throws {
    var builder = try CotarIndexBuilder()
    builder.add(existing: CotarIndexRecord(hash: 42, blockOffset: 1, size: 1), headerOffset: 0)
    builder.add(existing: CotarIndexRecord(hash: 42, blockOffset: 3, size: 1), headerOffset: 1024)
    let error = await #expect(throws: CotarError.self) {
      try await builder.build { offset in Array((offset == 0 ? "left.txt" : "right.txt").utf8) }
    }
    #expect(error?.code == .hashCollision)
    #expect(error?.message.contains("left.txt") == true)
    #expect(error?.message.contains("right.txt") == true)
  }

  @Test("sizes and offsets beyond the v2 fields are refused")
  func limits() throws {
    var builder = try CotarIndexBuilder()
    let big = TarEntry(pathBytes: Array("big.bin".utf8), kind: .file, headerOffset: 0, dataOffset: 512, size: 1 << 32)
    let sizeError = #expect(throws: CotarError.self) { try builder.add(big) }
    #expect(sizeError?.code == .limitExceeded)
    #expect(sizeError?.path == "big.bin")
    let far = TarEntry(
      pathBytes: Array("far.bin".utf8), kind: .file, headerOffset: 0, dataOffset: (UInt64(UInt32.max) + 1) * 512, size: 1)
    let offsetError = #expect(throws: CotarError.self) { try builder.add(far) }
    #expect(offsetError?.code == .limitExceeded)
    let last = TarEntry(
      pathBytes: Array("last.bin".utf8), kind: .file, headerOffset: 0, dataOffset: UInt64(UInt32.max) * 512,
      size: UInt64(UInt32.max))
    try builder.add(last)
    #expect(builder.addedCount == 1)
  }

  @Test("a hard link to a path not seen earlier is an error")
  func unknownHardLink() async throws {
    let error = await #expect(throws: CotarError.self) {
      try await CotarIndexBuilder.build(tar: FileSource(path: fixturePath("hardlink-unknown.tar")))
    }
    #expect(error?.code == .invalidTar)
    #expect(error?.offset == 1024)
    #expect(error?.message.contains("missing.txt") == true)
  }

  @Test("packing and max search are validated")
  func optionValidation() {
    #expect(throws: CotarError.self) { try CotarIndexBuilder(options: .init(packing: -1)) }
    #expect(throws: CotarError.self) { try CotarIndexBuilder(options: .init(packing: .nan)) }
    #expect(throws: CotarError.self) { try CotarIndexBuilder(options: .init(maxSearch: -1)) }
  }

  @Test("output is deterministic and the slot count follows ceil(n × (1 + packing/100))", arguments: [0.0, 10, 25, 100])
  func slotArithmetic(packing: Double) async throws {
    var generator = SplitMix64(seed: 7)
    var tar = TestTar()
    for index in 0..<97 { tar.add("f/\(index)-\(generator.next() % 1000)", String(index)) }
    let options = CotarIndexBuilder.Options(packing: packing, maxSearch: 97)
    let first = try await buildIndex(tar.finished, options: options)
    let second = try await buildIndex(tar.finished, options: options)
    #expect(first.bytes == second.bytes)
    #expect(first.stats.slots == Int((97 * (1 + packing / 100)).rounded(.up)))
  }
}
