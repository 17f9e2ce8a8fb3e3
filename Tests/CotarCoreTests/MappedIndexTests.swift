import CotarCore
import CotarTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Memory-mapped local indexes")
struct MappedIndexTests {
  /// Writes `bytes` to a new temporary file and returns its path.
  static func temporaryFile(_ bytes: [UInt8], suffix: String) throws -> String {
    let path = ScratchSpace.path("cotar-map", suffix: suffix)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  /// A tar of `count` files, with sizes 0…1499, and its index.
  static func archive(files count: Int) async throws -> (tar: [UInt8], index: [UInt8], paths: [String]) {
    var tar = TestTar()
    var generator = SplitMix64(seed: UInt64(count))
    var paths: [String] = []
    for index in 0..<count {
      let path = "m/\(index % 13)/\(index).bin"
      tar.add(path, (0..<Int(generator.next() % 1500)).map { _ in UInt8.random(in: 0...255, using: &generator) })
      paths.append(path)
    }
    let built = try await buildIndex(tar.finished)
    return (tar.finished, built.bytes, paths)
  }

  @Test("fixture sidecars and .tar.co files: mapped lookups equal pread-window and in-memory lookups",
    arguments: FixtureManifest.indexed)
  func fixtures(fixture: FixtureManifest.Fixture) async throws {
    let tarBytes = try fixtureBytes(fixture.name)
    let indexPath = fixturePath(try #require(fixture.index))
    // 16 speculative bytes: the index is not read whole at open, so it is mapped (or read per window).
    let mapped = try await Cotar.open(
      tar: FileSource(path: fixturePath(fixture.name)), index: FileSource(path: indexPath),
      options: .init(speculativeBytes: 16))
    let windows = try await Cotar.open(
      tar: FileSource(path: fixturePath(fixture.name)), index: FileSource(path: indexPath),
      options: .init(speculativeBytes: 16, mapLocalIndex: false))
    let memory = try await Cotar.open(
      tar: MemorySource(tarBytes), index: MemorySource(try fixtureBytes(try #require(fixture.index))),
      options: .init(loadIndexIntoMemory: true))
    #expect(mapped.index.isMapped == (mapped.index.slotCount > 0))
    #expect(!windows.index.isMapped)
    for entry in fixture.entries ?? [] {
      let expected = Array(tarBytes[Int(entry.offset)..<Int(entry.offset + entry.size)])
      #expect(try await mapped.read(pathBytes: entry.pathBytes) == expected)
      #expect(try await windows.entry(pathBytes: entry.pathBytes) == mapped.entry(pathBytes: entry.pathBytes))
      #expect(try await memory.entry(pathBytes: entry.pathBytes) == mapped.entry(pathBytes: entry.pathBytes))
    }
    for absent in fixture.absent ?? [] {
      #expect(try await mapped.read(absent) == nil)
    }
    if let co = fixture.co {
      let combined = try await Cotar.open(FileSource(path: fixturePath(co)), options: .init(speculativeBytes: 16))
      #expect(combined.index.isMapped == (combined.index.slotCount > 0))
      for entry in fixture.entries ?? [] {
        #expect(
          try await combined.read(pathBytes: entry.pathBytes)
            == Array(tarBytes[Int(entry.offset)..<Int(entry.offset + entry.size)]))
      }
    }
  }

  @Test("a large local .tar.co is mapped by default: every lookup resolves without suspending, as with pread windows")
  func largeTrailingMappedByDefault() async throws {
    let (tar, index, paths) = try await Self.archive(files: 6000)
    #expect(index.count > 64 << 10, "the index must exceed the speculative read")
    let path = try Self.temporaryFile(tar + index, suffix: ".tar.co")
    defer { unlink(path) }
    let mapped = try await Cotar.open(FileSource(path: path))
    let windows = try await Cotar.open(FileSource(path: path), options: .init(mapLocalIndex: false))
    #expect(mapped.index.isMapped && mapped.index.isResident)
    #expect(!windows.index.isMapped && !windows.index.isResident)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1500, alignment: 16)
    defer { buffer.deallocate() }
    for probe in paths + ["m/absent.bin", "m/3/6000.bin"] {
      let viaWindows = try await windows.entry(probe)
      #expect(try await mapped.entry(probe) == viaWindows)
      guard case .resolved(let count) = try mapped.readWithoutSuspending(probe, into: buffer) else {
        Issue.record("a mapped index must resolve \(probe) without suspending")
        continue
      }
      #expect(count == viaWindows.map { Int($0.size) })
      if let entry = viaWindows, entry.size > 0 {
        #expect(Array(buffer[0..<Int(entry.size)]) == Array(tar[Int(entry.offset)..<Int(entry.offset + entry.size)]))
      }
    }
  }

  @Test("an index file truncated after it was opened is refused when mapped, naming the sizes")
  func truncatedBeforeMapping() async throws {
    let (tar, index, _) = try await Self.archive(files: 6000)
    let path = try Self.temporaryFile(index, suffix: ".tar.index")
    defer { unlink(path) }
    let source = try FileSource(path: path)
    let opened = try await CotarIndex.open(sidecar: source, speculativeBytes: 16)
    #expect(truncate(path, off_t(index.count / 2)) == 0)
    let error = try #require(throws: CotarError.self) { try opened.mapped() }
    #expect(error.code == .truncated)
    #expect(error.message.contains("truncated while open"))
    _ = tar
  }

  @Test("a truncated sidecar is refused at open with or without mapping")
  func truncatedAtOpen() async throws {
    let (tar, index, _) = try await Self.archive(files: 6000)
    let path = try Self.temporaryFile(Array(index.dropLast(4096)), suffix: ".tar.index")
    defer { unlink(path) }
    for map in [true, false] {
      let error = try await #require(throws: CotarError.self) {
        try await Cotar.open(tar: MemorySource(tar), index: FileSource(path: path), options: .init(mapLocalIndex: map))
      }
      #expect(error.code == .corruptIndex)
    }
  }

  @Test("a .tar.co whose index header differs from its footer is refused when mapping is on")
  func damagedHeader() async throws {
    let (tar, index, _) = try await Self.archive(files: 6000)
    var damaged = index
    damaged[0] ^= 0xFF  // the header; the footer (read at open) stays valid
    let path = try Self.temporaryFile(tar + damaged, suffix: ".tar.co")
    defer { unlink(path) }
    let error = try await #require(throws: CotarError.self) {
      try await Cotar.open(FileSource(path: path), options: .init(speculativeBytes: 16))
    }
    #expect(error.code == .corruptIndex)
  }

  @Test("read(paths:) on a local file equals single reads: absent, empty, duplicate and neighbouring entries")
  func localBatch() async throws {
    let (tar, index, paths) = try await Self.archive(files: 6000)
    let path = try Self.temporaryFile(tar + index, suffix: ".tar.co")
    defer { unlink(path) }
    for map in [true, false] {
      let cotar = try await Cotar.open(FileSource(path: path), options: .init(mapLocalIndex: map))
      var generator = SplitMix64(seed: 7)
      var wanted = (0..<2000).map { _ in paths[Int(generator.next() % UInt64(paths.count))] }
      wanted += Array(paths[100..<400]) + ["m/none.bin", paths[5], paths[5]]
      for options in [BatchReadOptions(), BatchReadOptions(coalesceGap: 0), BatchReadOptions(maximumCoalescedBytes: 1)] {
        let batch = try await cotar.read(paths: wanted, options: options)
        #expect(batch.count == wanted.count)
        for (probe, bytes) in zip(wanted, batch) {
          #expect(bytes == (try await cotar.read(probe)), "\(probe)")
        }
      }
    }
  }
}
