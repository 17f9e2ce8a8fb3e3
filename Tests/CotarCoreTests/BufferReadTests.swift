import CotarCore
import CotarTestSupport
import Testing

@Suite("Reads into a caller's buffer")
struct BufferReadTests {
  static func archive() async throws -> (tar: [UInt8], index: [UInt8]) {
    var tar = TestTar()
    tar.add("a.txt", "alpha")
    tar.add("empty", "")
    tar.add("b.txt", String(repeating: "b", count: 700))
    return (tar.finished, try await buildIndex(tar.finished).bytes)
  }

  @Test("read(_:into:) fills the buffer and returns the size, nil when absent")
  func asyncBufferRead() async throws {
    let (tar, index) = try await Self.archive()
    let cotar = try await Cotar.open(MemorySource(tar + index))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
    defer { buffer.deallocate() }
    #expect(try await cotar.read("b.txt", into: buffer) == 700)
    #expect(Array(buffer.prefix(700)) == [UInt8](repeating: 0x62, count: 700))
    #expect(try await cotar.read("a.txt", into: buffer) == 5)
    #expect(Array(buffer.prefix(5)) == Array("alpha".utf8))
    #expect(try await cotar.read("empty", into: buffer) == 0)
    #expect(try await cotar.read("nope", into: buffer) == nil)
  }

  @Test("a buffer too small for the entry is an invalid argument, not an overflow")
  func smallBuffer() async throws {
    let (tar, index) = try await Self.archive()
    let cotar = try await Cotar.open(MemorySource(tar + index))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
    defer { buffer.deallocate() }
    let error = await #expect(throws: CotarError.self) { try await cotar.read("b.txt", into: buffer) }
    #expect(error?.code == .invalidArgument)
    let viaSync = #expect(throws: CotarError.self) { try cotar.readWithoutSuspending("b.txt", into: buffer) }
    #expect(viaSync?.code == .invalidArgument)
  }

  @Test("reading without suspending needs the index in memory and a synchronous source")
  func synchronousPath() async throws {
    let (tar, index) = try await Self.archive()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
    defer { buffer.deallocate() }
    let resident = try await Cotar.open(MemorySource(tar + index))
    #expect(try resident.readWithoutSuspending("a.txt", into: buffer) == .resolved(5))
    #expect(try resident.readWithoutSuspending("nope", into: buffer) == .resolved(nil))
    let notResident = try await Cotar.open(MemorySource(tar + index), options: .init(speculativeBytes: 8))
    #expect(try notResident.readWithoutSuspending("a.txt", into: buffer) == .needsAsync)
    let counted = try await Cotar.open(CountingSource(MemorySource(tar + index)))
    #expect(try counted.readWithoutSuspending("a.txt", into: buffer) == .needsAsync)
    #expect(try await counted.read("a.txt", into: buffer) == 5)
  }

  @Test("FileSource reads straight into the buffer and reports truncation")
  func fileSourceBuffer() async throws {
    let source = try FileSource(path: fixturePath("gnu-basic.tar"))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
    defer { buffer.deallocate() }
    try await source.read(0..<512, into: buffer)
    #expect(Array(buffer.prefix(8)) == Array((try fixtureBytes("gnu-basic.tar")).prefix(8)))
    let size = try await source.size()
    let error = await #expect(throws: CotarError.self) { try await source.read((size - 10)..<(size + 10), into: buffer) }
    #expect(error?.code == .truncated)
  }
}

@Suite("Window cache placement")
struct WindowCachePlacementTests {
  @Test("local sources read index windows directly; other sources get the window cache")
  func localSourcesBypassCache() async throws {
    let tar = try FileSource(path: fixturePath("gnu-basic.tar.co"))
    let local = try await Cotar.open(tar, options: .init(speculativeBytes: 8))
    #expect(local.index.source is FileSource)
    #expect(local.index.isMapped)
    // A CountingSource around a file is not a SynchronousRangeSource: unmapped, it gets the cache.
    let counted = try await Cotar.open(CountingSource(tar), options: .init(speculativeBytes: 8))
    #expect(counted.index.isMapped && counted.index.source is CountingSource)
    let remoteLike = try await Cotar.open(CountingSource(tar), options: .init(speculativeBytes: 8, mapLocalIndex: false))
    #expect(remoteLike.index.source is BlockCacheSource)
    let uncached = try await Cotar.open(
      CountingSource(tar), options: .init(speculativeBytes: 8, indexCache: nil, mapLocalIndex: false))
    #expect(uncached.index.source is CountingSource)
  }
}
