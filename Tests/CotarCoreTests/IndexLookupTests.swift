import CotarCore
import CotarTestSupport
import Testing

@Suite("Index lookups and their I/O")
struct IndexLookupTests {
  /// A tar of `count` files and its index.
  static func archive(files count: Int, packing: Double = 25) async throws -> (tar: [UInt8], index: [UInt8]) {
    var tar = TestTar()
    for index in 0..<count { tar.add("tiles/\(index % 7)/\(index).pbf", "tile \(index)") }
    let built = try await buildIndex(tar.finished, options: .init(packing: packing, maxSearch: count))
    return (tar.finished, built.bytes)
  }

  @Test("a small sidecar is read once at open; lookups then do no index I/O")
  func smallSidecar() async throws {
    let (_, index) = try await Self.archive(files: 100)
    let counted = CountingSource(MemorySource(index))
    let opened = try await CotarIndex.open(sidecar: counted)
    #expect(counted.counts.reads == 1)
    #expect(opened.isResident)
    #expect(try await opened.lookup("tiles/3/3.pbf") != nil)
    #expect(try await opened.lookup("absent") == nil)
    #expect(counted.counts.reads == 1)
  }

  @Test("a large index costs one window read per lookup", arguments: [1, 16, 64])
  func windowedLookup(windowSlots: Int) async throws {
    let (_, index) = try await Self.archive(files: 2000)
    let counted = CountingSource(MemorySource(index))
    let opened = try await CotarIndex.open(
      sidecar: counted, speculativeBytes: 8, lookupOptions: .init(windowSlots: windowSlots))
    #expect(!opened.isResident)
    for probe in [0, 17, 999, 1999] {
      counted.reset()
      let entry = try await opened.lookup("tiles/\(probe % 7)/\(probe).pbf")
      #expect(entry != nil)
      let stats = counted.counts
      if windowSlots >= 64 { #expect(stats.reads == 1) }
      #expect(stats.reads >= 1 && stats.bytes <= UInt64(stats.reads * windowSlots * 16))
    }
  }

  @Test("the .tar.co footer read finds the index; a small index is then resident")
  func trailingIndex() async throws {
    let (tar, index) = try await Self.archive(files: 50)
    let counted = CountingSource(MemorySource(tar + index))
    let cotar = try await Cotar.open(counted)
    #expect(counted.counts.reads == 1)
    #expect(cotar.index.baseOffset == UInt64(tar.count))
    counted.reset()
    #expect(try await cotar.read("tiles/1/8.pbf") == Array("tile 8".utf8))
    #expect(counted.counts.reads == 1)
  }

  @Test("a cold lookup on a large local .tar.co is footer + header check at open, then window + data")
  func coldLargeTrailing() async throws {
    let (tar, index) = try await Self.archive(files: 5000)
    let counted = CountingSource(MemorySource(tar + index))
    let cotar = try await Cotar.open(counted, options: .init(speculativeBytes: 4096))
    #expect(counted.counts.reads == 2)  // suffix, and the header check of a local index (SPEC §8.1)
    var windowReads = 0
    for probe in stride(from: 0, to: 5000, by: 97) {
      counted.reset()
      #expect(try await cotar.read("tiles/\(probe % 7)/\(probe).pbf") == Array("tile \(probe)".utf8))
      windowReads += counted.counts.reads - 1
    }
    #expect(windowReads <= 52, "at most one window read per lookup (some windows are resident)")
  }

  @Test("lookups wrap around the end of the table and stop on a full table")
  func fullTableWraps() async throws {
    let (tar, index) = try await Self.archive(files: 40, packing: 0)
    let cotar = try await Cotar.open(tar: MemorySource(tar), index: MemorySource(index))
    #expect(cotar.index.slotCount == 40)
    for probe in 0..<40 {
      #expect(try await cotar.read("tiles/\(probe % 7)/\(probe).pbf") == Array("tile \(probe)".utf8))
    }
    #expect(try await cotar.read("not/there") == nil)
    let windowed = CotarIndex(
      source: MemorySource(index), baseOffset: 0, header: cotar.index.header, lookupOptions: .init(windowSlots: 3))
    #expect(try await windowed.lookup("not/there") == nil)
    #expect(try await windowed.lookup("tiles/6/34.pbf") != nil)
  }

  @Test("a zero-byte entry does no data read")
  func zeroByteEntry() async throws {
    var tar = TestTar()
    tar.add("empty", "")
    tar.add("full", "x")
    let built = try await buildIndex(tar.finished)
    let data = CountingSource(MemorySource(tar.finished))
    let cotar = try await Cotar.open(tar: data, index: MemorySource(built.bytes))
    #expect(try await cotar.read("empty") == [])
    #expect(data.counts.reads == 0)
    #expect(try await cotar.read("full") == [0x78])
    #expect(data.counts.reads == 1)
  }

  @Test("loading into memory makes every lookup I/O-free")
  func loadedIndex() async throws {
    let (tar, index) = try await Self.archive(files: 3000)
    let counted = CountingSource(MemorySource(tar + index))
    let cotar = try await Cotar.open(counted, options: .init(speculativeBytes: 64, loadIndexIntoMemory: true))
    #expect(counted.counts.reads == 3)  // suffix, header check, whole index (header and footer checked again)
    counted.reset()
    for probe in 0..<100 { #expect(try await cotar.entry("tiles/\(probe % 7)/\(probe).pbf") != nil) }
    #expect(counted.counts.reads == 0)
  }
}
