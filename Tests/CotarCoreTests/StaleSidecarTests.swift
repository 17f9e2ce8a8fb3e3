import CotarCore
import CotarTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A `.tar.index` beside a `.tar` that was rewritten after indexing (GNU tar `--delete`, a
/// new `tar -cf`): every read path checks the tar header before the entry's data (SPEC §8.5)
/// and fails with `.staleIndex` instead of returning other bytes; an untouched pair and a
/// `.tar.co` read as before.
@Suite("Stale sidecar indexes", .timeLimit(.minutes(5)))
struct StaleSidecarTests {
  static let files = [("a.txt", "alpha file\n"), ("b.txt", "bravo contents here, longer\n"), ("c.txt", "charlie\n")]

  /// Runs `script` with `/bin/sh` in `directory`.
  static func shell(_ script: String, in directory: URL) async throws {
    let result = try await ProcessRunner.runDetached("/bin/sh", ["-c", script], in: directory.path)
    guard result.status == 0 else { throw CotarError(.io, "\(script): \(result.stderr)") }
  }

  /// Writes `files` into `directory` and archives them with GNU tar as `X.tar`.
  static func gnuTar(_ files: [(String, String)], in directory: URL) async throws {
    for (name, text) in files { try Data(text.utf8).write(to: directory.appendingPathComponent(name)) }
    try await shell("rm -f X.tar && tar --format=gnu -cf X.tar " + files.map(\.0).joined(separator: " "), in: directory)
  }

  /// A new directory with `X.tar` (GNU tar of ``files``) and its `X.tar.index`.
  static func indexedPair() async throws -> URL {
    let directory = try ScratchSpace.directory("stale-sidecar")
    try await gnuTar(files, in: directory)
    let built = try await CotarIndexBuilder.build(tar: FileSource(path: directory.appendingPathComponent("X.tar").path))
    try Data(built.index.bytes).write(to: directory.appendingPathComponent("X.tar.index"))
    return directory
  }

  /// The sidecar pair in `directory`, opened with `options`.
  static func openPair(_ directory: URL, options: Cotar.OpenOptions = .init()) async throws -> Cotar {
    try await Cotar.open(
      tar: FileSource(path: directory.appendingPathComponent("X.tar").path),
      index: FileSource(path: directory.appendingPathComponent("X.tar.index").path), options: options)
  }

  /// Expects `body` to throw `.staleIndex` naming the tar, `path` (when given) and the
  /// header's `offset`, with the advice to re-index.
  static func expectStale(
    path: String?, offset: UInt64, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
  ) async {
    do {
      try await body()
      Issue.record("no error: the stale index was trusted", sourceLocation: sourceLocation)
    } catch let error as CotarError {
      #expect(error.code == .staleIndex, "\(error)", sourceLocation: sourceLocation)
      if let path { #expect(error.path == path, "\(error)", sourceLocation: sourceLocation) }
      #expect(error.offset == offset, "\(error)", sourceLocation: sourceLocation)
      #expect(error.source?.hasSuffix("X.tar") == true, "\(error)", sourceLocation: sourceLocation)
      #expect(error.description.contains("cotar index") && error.description.contains("--force"), "\(error)")
    } catch {
      Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
  }

  /// Index in memory (mapped) and read by windows: both read paths check.
  static let openings: [(String, Cotar.OpenOptions)] = [
    ("mapped", Cotar.OpenOptions()), ("windows", Cotar.OpenOptions(speculativeBytes: 512, mapLocalIndex: false)),
  ]

  @Test("tar --delete of the first member: every read path of the others fails with .staleIndex", arguments: [0, 1])
  func tarDelete(opening: Int) async throws {
    let directory = try await Self.indexedPair()
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("tar --delete -f X.tar a.txt", in: directory)
    let cotar = try await Self.openPair(directory, options: Self.openings[opening].1)
    #expect(cotar.checksEntryHeaders)
    // b.txt's header was at 1024; it now holds c.txt's (8 bytes, not 28).
    await Self.expectStale(path: "b.txt", offset: 1024) { _ = try await cotar.read("b.txt") }
    await Self.expectStale(path: "b.txt", offset: 1024) { _ = try await cotar.read(pathBytes: Array("b.txt".utf8)) }
    // c.txt's header block is now the end-of-archive zeros; a.txt's now b.txt's header.
    await Self.expectStale(path: "c.txt", offset: 2048) { _ = try await cotar.read("c.txt") }
    await Self.expectStale(path: "a.txt", offset: 0) { _ = try await cotar.read("a.txt") }
    await Self.expectStale(path: "b.txt", offset: 1024) {
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
      defer { buffer.deallocate() }
      _ = try await cotar.read("b.txt", into: buffer)
    }
    await Self.expectStale(path: nil, offset: 1024) {
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
      defer { buffer.deallocate() }
      _ = try cotar.readWithoutSuspending("b.txt", into: buffer)
      // The windowed index needs I/O: the async read checks.
      _ = try await cotar.read("b.txt", into: buffer)
    }
    // Batch reads check each entry (a.txt and c.txt are read with one pread).
    await Self.expectStale(path: nil, offset: 0) { _ = try await cotar.read(paths: ["a.txt", "c.txt"]) }
    await Self.expectStale(path: "c.txt", offset: 2048) { _ = try await cotar.read(paths: ["c.txt"]) }
    // Streams fail before the first chunk.
    await Self.expectStale(path: "b.txt", offset: 1024) {
      let chunks = try #require(try await cotar.chunks(of: "b.txt"))
      for try await chunk in chunks { Issue.record("a chunk of \(chunk.count) bytes was delivered") }
    }
    // A kernel copy to a file writes nothing.
    let output = directory.appendingPathComponent("out.bin").path
    let fd = open(output, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
    #expect(fd >= 0)
    defer { close(fd) }
    let entry = try #require(try await cotar.entry("b.txt"))
    await Self.expectStale(path: nil, offset: 1024) { _ = try await cotar.read(entry, toFileDescriptor: fd) }
    #expect(try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int == 0)
  }

  @Test("a tar re-created with other contents (and another order) fails every path with .staleIndex")
  func recreatedTar() async throws {
    let directory = try await Self.indexedPair()
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.gnuTar([("c.txt", "C\n"), ("a.txt", "a new alpha, of yet another length\n"), ("b.txt", "b\n")], in: directory)
    let cotar = try await Self.openPair(directory)
    for (index, (path, _)) in Self.files.enumerated() {
      await Self.expectStale(path: path, offset: UInt64(index) * 1024) { _ = try await cotar.read(path) }
    }
    await Self.expectStale(path: nil, offset: 0) { _ = try await cotar.read(paths: Self.files.map(\.0)) }
  }

  @Test("an untouched pair reads byte-exact through every read path", arguments: FixtureManifest.indexed)
  func untouchedFixtures(fixture: FixtureManifest.Fixture) async throws {
    let tarBytes = try fixtureBytes(fixture.name)
    let cotar = try await Cotar.open(
      tar: FileSource(path: fixturePath(fixture.name)), index: FileSource(path: fixturePath(try #require(fixture.index))))
    #expect(cotar.checksEntryHeaders)
    let entries = fixture.entries ?? []
    let expected = entries.map { Array(tarBytes[Int($0.offset)..<Int($0.offset + $0.size)]) }
    let batch = try await cotar.read(pathBytes: entries.map(\.pathBytes))
    #expect(batch == expected.map { Optional($0) })
    let paths = entries.map { String(decoding: $0.pathBytes, as: UTF8.self) }
    if zip(paths, entries).allSatisfy({ Array($0.utf8) == $1.pathBytes }) {
      #expect(try await cotar.read(paths: paths) == expected.map { Optional($0) })
    }
    for (entry, bytes) in zip(entries, expected) {
      let located = try #require(try await cotar.entry(pathBytes: entry.pathBytes))
      var streamed: [UInt8] = []
      for try await chunk in cotar.chunks(of: located, options: StreamOptions(chunkSize: 64, partSize: 64)) {
        streamed += chunk
      }
      #expect(streamed == bytes)
    }
  }

  @Test("a .tar.co is not checked: one read of exactly the entry's bytes")
  func combinedArchiveUnchanged() async throws {
    let counted = CountingSource(try FileSource(path: fixturePath("gnu-basic.tar.co")))
    let cotar = try await Cotar.open(counted, options: .init(loadIndexIntoMemory: true))
    #expect(!cotar.checksEntryHeaders)
    let entry = try #require(try await cotar.entry("b513.bin"))
    counted.reset()
    _ = try await cotar.read(entry)
    #expect(counted.counts.reads == 1 && counted.counts.bytes == entry.size)
  }

  @Test("a sidecar read is one read: the 512-byte header and the data together")
  func sidecarReadIsOneRead() async throws {
    let counted = CountingSource(try FileSource(path: fixturePath("gnu-basic.tar")))
    let cotar = try await Cotar.open(
      tar: counted, index: FileSource(path: fixturePath("gnu-basic.tar.index")), options: .init(loadIndexIntoMemory: true))
    let entry = try #require(try await cotar.entry("b513.bin"))
    counted.reset()
    #expect(try await cotar.read(entry) == Array(try fixtureBytes("gnu-basic.tar")[Int(entry.offset)..<Int(entry.offset + entry.size)]))
    #expect(counted.counts.reads == 1 && counted.counts.bytes == entry.size + 512)
  }

  @Test("a record whose data offset is 0 (no header can precede it) is a corrupt index")
  func dataOffsetZero() async throws {
    var builder = try CotarIndexBuilder()
    try builder.add(TarEntry(pathBytes: Array("zero".utf8), kind: .file, headerOffset: 0, dataOffset: 0, size: 5))
    let built = try await builder.build { _ in Array("zero".utf8) }
    let cotar = try await Cotar.open(
      tar: MemorySource(try fixtureBytes("gnu-basic.tar"), identity: "X.tar"), index: MemorySource(built.bytes, identity: "X.tar.index"))
    await #expect(throws: CotarError.self) { _ = try await cotar.read("zero") }
    do {
      _ = try await cotar.read("zero")
    } catch let error as CotarError {
      #expect(error.code == .corruptIndex && error.path == "zero" && error.offset == 0, "\(error)")
    }
    do {
      _ = try await cotar.read(paths: ["zero"])
    } catch let error as CotarError {
      #expect(error.code == .corruptIndex, "\(error)")
    }
  }
}
