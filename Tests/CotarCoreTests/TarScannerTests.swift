import CotarCore
import CotarTestSupport
import Foundation
import Testing

@Suite("Tar scanner")
struct TarScannerTests {
  @Test("indexed entries match Python tarfile's view of every fixture", arguments: FixtureManifest.valid)
  func matchesManifest(fixture: FixtureManifest.Fixture) async throws {
    let found = try await indexedEntries(of: FileSource(path: fixturePath(fixture.name)))
    let expected = fixture.entries ?? []
    #expect(found.map(\.path) == expected.map(\.pathBytes))
    #expect(found.map(\.entry) == expected.map { CotarEntry(offset: $0.offset, size: $0.size) })
    #expect(found.map { $0.kind.description } == expected.map(\.kind))
  }

  @Test("broken archives fail with the documented error and offset", arguments: FixtureManifest.broken)
  func brokenArchives(fixture: FixtureManifest.Fixture) async throws {
    let error = await #expect(throws: CotarError.self) {
      try await CotarIndexBuilder.build(tar: FileSource(path: fixturePath(fixture.name)))
    }
    let offset = try #require(error?.offset)
    let expectedOffset = try #require(fixture.error_offset)
    switch fixture.error {
    case "checksum", "garbage":
      #expect(error?.code == .invalidTar)
      #expect(offset == expectedOffset)
      #expect(error?.message.contains("checksum") == true)
    case "truncated":
      #expect(error?.code == .truncated)
      #expect(offset >= expectedOffset && offset <= expectedOffset + 512)
    case "pax":
      #expect(error?.code == .invalidTar)
      #expect(error?.message.contains("PAX") == true)
      #expect(offset >= expectedOffset && offset < expectedOffset + 1024)
    case "hardlink":
      #expect(error?.code == .invalidTar)
      #expect(offset == expectedOffset)
    case "empty":
      #expect(error?.code == .invalidTar)
      #expect(offset == 0)
      #expect(error?.message.contains("empty") == true)
    default:
      Issue.record("unknown error kind \(fixture.error ?? "nil")")
    }
    #expect(error?.source == fixturePath(fixture.name))
  }

  @Test("GNU long names, ustar prefix and PAX paths are resolved in full")
  func longNames() async throws {
    for name in ["gnu-longname.tar", "gnu-posix.tar", "gnu-ustar.tar", "python-pax.tar"] {
      let paths = try await indexedEntries(of: FileSource(path: fixturePath(name))).map(\.path)
      #expect(paths.contains { $0.count > 100 }, "\(name) should hold a path longer than 100 bytes")
    }
    let gnuPaths = try await indexedEntries(of: FileSource(path: fixturePath("gnu-longname.tar"))).map(\.path)
    #expect(gnuPaths.contains { $0.count > 255 })
  }

  @Test("non-indexed kinds are reported, not indexed")
  func skippedKinds() async throws {
    var kinds: [String: Int] = [:]
    let summary = try await TarScanner(source: FileSource(path: fixturePath("python-special.tar"))).scan { entry in
      if !entry.kind.isIndexed { kinds[entry.kind.description, default: 0] += 1 }
    }
    #expect(summary.skipped == kinds)
    #expect(summary.skippedCount == 5)
  }

  @Test("the archive ends at a zero block or at EOF on a header boundary")
  func endOfArchive() async throws {
    var tar = TestTar()
    tar.add("a.txt", "hello")
    let withoutMarker = tar.bytes
    let summary = try await TarScanner(source: MemorySource(withoutMarker)).scan { _ in }
    #expect(summary.endOffset == UInt64(withoutMarker.count))
    #expect(summary.members == 1)
    let withMarker = try await TarScanner(source: MemorySource(tar.finished + [1, 2, 3])).scan { _ in }
    #expect(withMarker.endOffset == 1024)
  }

  @Test("the async sequence yields the same members as scan")
  func asyncSequence() async throws {
    let source = try FileSource(path: fixturePath("gnu-basic.tar"))
    var viaSequence: [TarEntry] = []
    for try await entry in TarScanner(source: source).entries() { viaSequence.append(entry) }
    var viaScan: [TarEntry] = []
    _ = try await TarScanner(source: source).scan { viaScan.append($0) }
    #expect(viaSequence == viaScan)
    #expect(viaSequence.count == 9)
  }

  @Test("a small read-ahead buffer gives the same result as the default")
  func readAheadIndependence() async throws {
    var options = TarScanner.Options()
    options.readAheadBytes = 512
    let source = try FileSource(path: fixturePath("gnu-longname.tar"))
    var small: [TarEntry] = []
    _ = try await TarScanner(source: source, options: options).scan { small.append($0) }
    var large: [TarEntry] = []
    _ = try await TarScanner(source: source).scan { large.append($0) }
    #expect(small == large)
  }

  @Test("oversized extended headers are refused instead of allocated")
  func extendedHeaderLimit() async throws {
    var tar = TestTar()
    tar.add(Array("././@LongLink".utf8), data: [UInt8](repeating: 0x61, count: 4096), typeflag: UInt8(ascii: "L"))
    tar.add("short", "x")
    var options = TarScanner.Options()
    options.maximumExtendedHeaderBytes = 1024
    let error = await #expect(throws: CotarError.self) {
      try await TarScanner(source: MemorySource(tar.finished), options: options).scan { _ in }
    }
    #expect(error?.code == .invalidTar)
    #expect(error?.offset == 0)
  }
}

@Suite("Tar scanner edge cases")
struct TarScannerEdgeTests {
  @Test("final data without its 512-byte padding still ends the archive cleanly")
  func unpaddedFinalMember() async throws {
    var tar = TestTar()
    tar.add("a.txt", "hello")
    let unpadded = Array(tar.bytes.prefix(512 + 5))
    var paths: [String] = []
    let summary = try await TarScanner(source: MemorySource(unpadded)).scan { paths.append($0.path) }
    #expect(paths == ["a.txt"])
    #expect(summary.endOffset >= UInt64(unpadded.count))
    let cut = Array(tar.bytes.prefix(512 + 4))
    let error = await #expect(throws: CotarError.self) { try await TarScanner(source: MemorySource(cut)).scan { _ in } }
    #expect(error?.code == .truncated)
    #expect(error?.path == "a.txt")
  }
}

@Suite("Tar scanner findings of the fuzzers (Fuzz/)")
struct TarScannerFuzzFindingTests {
  /// tar_scanner: a PAX header whose unpadded data ends the file was reported at the next
  /// header position (past the end of the file) instead of at the PAX header.
  @Test("an extended header with unpadded data at EOF is reported at its own offset")
  func danglingUnpaddedPaxHeader() async throws {
    var tar = TestTar()
    tar.add("before.txt", "abcd")
    tar.add(Array("././@PaxHeader".utf8), data: Array("9 path=x\n".utf8), typeflag: UInt8(ascii: "x"))
    let bytes = Array(tar.bytes.prefix(1024 + 512 + 9))
    var paths: [String] = []
    let error = await #expect(throws: CotarError.self) {
      try await TarScanner(source: MemorySource(bytes)).scan { paths.append($0.path) }
    }
    #expect(paths == ["before.txt"])
    #expect(error?.code == .invalidTar)
    #expect(error?.offset == 1024)
    let summary = try await TarScanner(source: MemorySource(Array(tar.bytes.prefix(512 + 4)))).scan { _ in }
    #expect(summary.endOffset == 512 + 512)  // the padded end of the unpadded final member
  }
}

@Suite("Tar scanner: old GNU sparse map extension blocks")
struct TarScannerSparseExtensionTests {
  /// Before the fix the extension block was taken for data: the walk lost its alignment and
  /// every member after the sparse one was silently dropped (GNU tar writes such blocks for
  /// files with more than 4 holes).
  @Test("members after a sparse entry with an extension block are found, with any read-ahead", arguments: [512, 1024, 1 << 20])
  func extensionBlocksAreSkipped(readAhead: Int) async throws {
    var options = TarScanner.Options()
    options.readAheadBytes = readAhead
    var entries: [TarEntry] = []
    let summary = try await TarScanner(source: MemorySource(try fixtureBytes("gnu-sparse-extended.tar")), options: options)
      .scan { entries.append($0) }
    #expect(entries.map(\.path) == ["before-sparse.txt", "sparse8.bin", "after-sparse.txt"])
    #expect(entries.map(\.kind) == [.file, .sparse, .file])
    #expect(entries.map(\.dataOffset) == [512, 2048, 3072])  // the sparse data follows its extension block
    #expect(summary.endOffset == 3584)
  }

  @Test("a sparse map whose extension block is cut off is truncated at that block")
  func truncatedExtensionBlock() async throws {
    let cut = Array(try fixtureBytes("gnu-sparse-extended.tar").prefix(1536 + 100))
    let error = await #expect(throws: CotarError.self) { try await TarScanner(source: MemorySource(cut)).scan { _ in } }
    #expect(error?.code == .truncated)
    #expect(error?.offset == 1536)
  }
}

@Suite("Tar scanner directory kinds")
struct TarScannerDirectoryTests {
  @Test("a GNU dump directory's data is skipped; a v7 directory has none")
  func directoryData() async throws {
    var tar = TestTar()
    tar.add(Array("dump/".utf8), data: Array("Yfile.txt\0\0".utf8), typeflag: UInt8(ascii: "D"))
    tar.add(Array("v7dir/".utf8), data: [], typeflag: 0)
    tar.add("after.txt", "still found")
    var seen: [(String, TarEntry.Kind)] = []
    _ = try await TarScanner(source: MemorySource(tar.finished)).scan { seen.append(($0.path, $0.kind)) }
    #expect(seen.map(\.0) == ["dump/", "v7dir/", "after.txt"])
    #expect(seen.map(\.1) == [.directory, .directory, .file])
    let built = try await buildIndex(tar.finished)
    let cotar = try await Cotar.open(tar: MemorySource(tar.finished), index: MemorySource(built.bytes))
    #expect(try await cotar.read("after.txt") == Array("still found".utf8))
  }
}

@Suite("Tar scanner: what hostile headers are reported as")
struct TarScannerHostileHeaderTests {
  /// A 2 KiB archive whose ustar size field says 8 GiB − 1: indexing it reported the v2
  /// format's 4 GiB limit; the archive is truncated, as a listing says.
  @Test("a declared size past the end of the archive is a truncation for index builds, not the 4 GiB limit")
  func declaredSizePastTheEnd() async throws {
    var bytes = TestTar.header(Array("a".utf8), size: 0o77777777777)
    bytes += Array("hello\n".utf8) + [UInt8](repeating: 0, count: 2048 - 512 - 6)
    let error = await #expect(throws: CotarError.self) {
      _ = try await CotarIndexBuilder.build(tar: MemorySource(bytes, identity: "big.tar"))
    }
    #expect(error?.code == .truncated)
    #expect(error?.path == "a")
    #expect(error?.offset == 512)
    #expect(
      error?.message
        == "archive is truncated: member data of 8589934591 bytes at 512 (header at 0) runs past the end of the file (2048 bytes)",
      "\(String(describing: error))")
  }

  @Test("a PAX record length past the end of the extended header says so, naming the header and the record's offset")
  func paxRecordLengthPastTheEnd() async throws {
    var tar = TestTar()
    tar.add(Array("./PaxHeaders/a".utf8), data: Array("10737418240 path=x\n".utf8), typeflag: UInt8(ascii: "x"))
    tar.add("a", "hello\n")
    let error = await #expect(throws: CotarError.self) {
      try await TarScanner(source: MemorySource(tar.finished)).scan { _ in }
    }
    #expect(error?.code == .invalidTar)
    #expect(error?.path == "./PaxHeaders/a")
    #expect(error?.offset == 512)
    #expect(
      error?.message
        == "malformed PAX extended header record: record length 10737418240 runs past the end of the extended header of 19 bytes",
      "\(String(describing: error))")
  }

  @Test("each kind of malformed PAX record names what is wrong", arguments: [
    ("x path=a\n", "it does not start with a decimal length ('x path=a\\n')"),
    ("12path=abc\n", "the length 12 is not followed by a space"),
    ("2 ", "record length 2 is shorter than the record's own length field"),
    ("11 path=abcd", "the record of length 11 does not end with a newline ('11 path=abc')"),
    ("9 pathab\n", "the record has no '=' between key and value ('pathab')"),
  ])
  func malformedRecordReasons(record: String, reason: String) async throws {
    var tar = TestTar()
    tar.add(Array("PaxHeader".utf8), data: Array("6 a=b\n".utf8) + Array(record.utf8), typeflag: UInt8(ascii: "x"))
    tar.add("a", "hello\n")
    let error = await #expect(throws: CotarError.self) {
      try await TarScanner(source: MemorySource(tar.finished)).scan { _ in }
    }
    #expect(error?.code == .invalidTar)
    #expect(error?.offset == 512 + 6, "the second record's offset")
    #expect(error?.message == "malformed PAX extended header record: " + reason, "\(String(describing: error))")
  }
}
