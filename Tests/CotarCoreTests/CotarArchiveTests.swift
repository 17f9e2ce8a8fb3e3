import CotarCore
import CotarTestSupport
import Foundation
import Testing

@Suite("Archives end to end")
struct CotarArchiveTests {
  @Test("every entry of every fixture reads back byte-exact through its committed index", arguments: FixtureManifest.indexed)
  func fixtureRoundTrip(fixture: FixtureManifest.Fixture) async throws {
    let tarBytes = try fixtureBytes(fixture.name)
    let cotar = try await Cotar.open(
      tar: FileSource(path: fixturePath(fixture.name)), index: FileSource(path: fixturePath(try #require(fixture.index))))
    for entry in fixture.entries ?? [] {
      let bytes = try await cotar.read(pathBytes: entry.pathBytes)
      #expect(bytes == Array(tarBytes[Int(entry.offset)..<Int(entry.offset + entry.size)]))
    }
    for absent in fixture.absent ?? [] {
      #expect(try await cotar.read(absent) == nil, "'\(absent)' should be absent")
    }
  }

  @Test("committed .tar.co files open from their footer and read every entry", arguments: FixtureManifest.combined)
  func combinedFixtures(fixture: FixtureManifest.Fixture) async throws {
    let co = try #require(fixture.co)
    let tarBytes = try fixtureBytes(fixture.name)
    let cotar = try await Cotar.open(FileSource(path: fixturePath(co)))
    #expect(cotar.index.baseOffset == UInt64(tarBytes.count))
    for entry in fixture.entries ?? [] {
      #expect(try await cotar.read(pathBytes: entry.pathBytes) == Array(tarBytes[Int(entry.offset)..<Int(entry.offset + entry.size)]))
    }
  }

  @Test("random archives round-trip in both layouts", arguments: [1 as UInt64, 2, 3])
  func randomRoundTrip(seed: UInt64) async throws {
    var generator = SplitMix64(seed: seed)
    var tar = TestTar()
    var contents: [String: [UInt8]] = [:]
    for index in 0..<(200 + Int(generator.next() % 300)) {
      let path = "r\(seed)/\(generator.next() % 50)/\(index).bin"
      let data = (0..<Int(generator.next() % 1500)).map { _ in UInt8.random(in: 0...255, using: &generator) }
      tar.add(Array(path.utf8), data: data)
      contents[path] = data
    }
    let archive = tar.finished
    let built = try await buildIndex(archive, options: .init(packing: 25, maxSearch: 200))
    let split = try await Cotar.open(tar: MemorySource(archive), index: MemorySource(built.bytes))
    let combined = try await Cotar.open(MemorySource(archive + built.bytes), options: .init(speculativeBytes: 256))
    for (path, data) in contents {
      #expect(try await split.read(path) == data)
      #expect(try await combined.read(path) == data)
    }
    for miss in 0..<200 { #expect(try await combined.read("r\(seed)/missing/\(miss)") == nil) }
  }

  @Test("a record pointing past the tar data is reported as a corrupt index")
  func recordPastData() async throws {
    var tar = TestTar()
    tar.add("a.txt", "hello")
    var index = try await buildIndex(tar.finished).bytes
    for slot in 0..<((index.count - 16) / 16) where index[8 + slot * 16] != 0 || index[9 + slot * 16] != 0 {
      index[8 + slot * 16 + 8] = 0xFF  // block offset far beyond the tar
    }
    let cotar = try await Cotar.open(MemorySource(tar.finished + index))
    let error = await #expect(throws: CotarError.self) { try await cotar.read("a.txt") }
    #expect(error?.code == .corruptIndex)
    #expect(error?.path == "a.txt")
  }

  @Test("a truncated sidecar and a missing footer are clear errors")
  func brokenIndexes() async throws {
    let index = try fixtureBytes("gnu-basic.tar.index")
    let truncated = await #expect(throws: CotarError.self) {
      try await CotarIndex.open(sidecar: MemorySource(Array(index.dropLast(5))))
    }
    #expect(truncated?.code == .corruptIndex)
    let noFooter = await #expect(throws: CotarError.self) {
      try await Cotar.open(FileSource(path: fixturePath("gnu-basic.tar")))
    }
    #expect(noFooter?.code == .invalidMagic)
    let tooShort = await #expect(throws: CotarError.self) { try await Cotar.open(MemorySource([0x43, 0x4F])) }
    #expect(tooShort?.code == .truncated)
    var oversized = try fixtureBytes("gnu-basic.tar.co")
    oversized.replaceSubrange((oversized.count - 4)..<oversized.count, with: [0xFF, 0xFF, 0xFF, 0x0F])
    let hugeFooter = await #expect(throws: CotarError.self) { try await Cotar.open(MemorySource(oversized)) }
    #expect(hugeFooter?.code == .corruptIndex)
    var mismatched = try fixtureBytes("gnu-basic.tar.co")
    mismatched[mismatched.count - 4] ^= 0x01
    await #expect(throws: CotarError.self) { try await Cotar.open(MemorySource(mismatched)) }
  }

  @Test("mutated archives never crash the scanner or the builder", arguments: [11 as UInt64, 12, 13, 14])
  func fuzzedArchives(seed: UInt64) async throws {
    var generator = SplitMix64(seed: seed)
    let original = try fixtureBytes("gnu-longname.tar")
    for _ in 0..<150 {
      var mutated = original
      for _ in 0..<(1 + Int(generator.next() % 8)) {
        let position = Int(generator.next() % UInt64(mutated.count))
        mutated[position] = UInt8(truncatingIfNeeded: generator.next())
      }
      if generator.next() % 4 == 0 { mutated = Array(mutated.prefix(Int(generator.next() % UInt64(mutated.count)))) }
      do {
        _ = try await CotarIndexBuilder.build(tar: MemorySource(mutated))
      } catch let error as CotarError {
        #expect(!error.message.isEmpty)
      }
    }
  }

  @Test("random index bytes behind a valid header never crash lookups", arguments: [21 as UInt64, 22])
  func fuzzedIndexes(seed: UInt64) async throws {
    var generator = SplitMix64(seed: seed)
    for _ in 0..<50 {
      let slots = UInt32(1 + generator.next() % 64)
      let header = CotarIndexHeader(slotCount: slots).serialized()
      let body = (0..<(Int(slots) * 16)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
      let cotar = try await Cotar.open(MemorySource([UInt8](repeating: 0, count: 1024) + header + body + header))
      for probe in 0..<20 {
        do {
          _ = try await cotar.read("p\(probe)")
        } catch let error as CotarError {
          #expect(error.code == .corruptIndex)
        }
      }
    }
  }
}
