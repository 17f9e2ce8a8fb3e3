import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// Regression tests for issue 10: inputs from third-party tools that once broke the builder,
/// the scanner or the index reader. Fixtures come from `Fixtures/make_realworld_fixtures.sh`.
@Suite("Real-world inputs")
struct RealWorldInputTests {
  @Test("a hard link whose target is a symlink is skipped and counted with the symlinks (GNU tar)")
  func hardLinkToSymlink() async throws {
    let source = try FileSource(path: fixturePath("realworld/gnu-hardlink-symlink.tar"))
    let result = try await CotarIndexBuilder.build(tar: source)
    #expect(result.index.stats.files == 2)  // a.txt and z.txt (a hard link to a.txt)
    #expect(result.scan.skipped == ["symlink": 2])  // h, and s (a hard link to h)
    let cotar = try await Cotar.open(tar: source, index: MemorySource(result.index.bytes))
    #expect(try await cotar.read("z.txt") == Array("hello\n".utf8))
    #expect(try await cotar.entry("s") == nil)
    let report = try await CotarValidator.validate(tar: source, index: cotar.index)
    #expect(report.isValid, "\(report.problems)")
    // A hard link to a target that is really missing stays an error.
    let missing = await #expect(throws: CotarError.self) {
      try await CotarIndexBuilder.build(tar: FileSource(path: fixturePath("hardlink-unknown.tar")))
    }
    #expect(missing?.code == .invalidTar)
  }

  @Test("old GNU sparse members with extension blocks are skipped whole", arguments: [512, 1 << 20])
  func oldSparseWithExtensionBlocks(readAhead: Int) async throws {
    var options = TarScanner.Options()
    options.readAheadBytes = readAhead
    let source = try FileSource(path: fixturePath("realworld/gnu-oldsparse-ext.tar"))
    var entries: [TarEntry] = []
    let summary = try await TarScanner(source: source, options: options).scan { entries.append($0) }
    #expect(entries.map(\.path) == ["sparse.bin", "after.txt"])
    #expect(entries.first?.kind == .sparse)
    #expect(summary.hasEndMarker)
    let built = try await CotarIndexBuilder.build(tar: source, scanOptions: options)
    #expect(built.index.stats.files == 1)
    let cotar = try await Cotar.open(tar: source, index: MemorySource(built.index.bytes))
    #expect(try await cotar.read("after.txt") == Array("after\n".utf8))
  }

  @Test("an old GNU sparse extension cut by end of file is reported as truncated")
  func oldSparseTruncatedExtension() async throws {
    let bytes = try fixtureBytes("realworld/gnu-oldsparse-ext.tar")
    let error = await #expect(throws: CotarError.self) {
      try await CotarIndexBuilder.build(tar: MemorySource(Array(bytes[0..<512])))
    }
    #expect(error?.code == .truncated)
    #expect(error?.offset == 512)
  }

  @Test("a tar without the end-of-archive marker needs two zero blocks to be terminated")
  func unterminatedTar() async throws {
    let bytes = try fixtureBytes("no-eof-marker.tar")
    let result = try await CotarIndexBuilder.build(tar: MemorySource(bytes))
    #expect(!result.scan.hasEndMarker)
    #expect(result.scan.terminatorPadding(fileSize: UInt64(bytes.count)) == 1024)
    let terminated = try await CotarIndexBuilder.build(tar: MemorySource(bytes + [UInt8](repeating: 0, count: 1024)))
    #expect(terminated.scan.hasEndMarker)
    #expect(terminated.scan.terminatorPadding(fileSize: UInt64(bytes.count + 1024)) == 0)
    let lone = try fixtureBytes("lone-zero-block.tar")
    let loneScan = try await CotarIndexBuilder.build(tar: MemorySource(lone)).scan
    #expect(loneScan.terminatorPadding(fileSize: UInt64(lone.count)) == UInt64(1024 - (lone.count - Int(loneScan.endOffset))))
    // Unpadded final data: pad to the block, then the marker.
    var tar = TestTar()
    tar.add("a.txt", "abc")
    let cut = Array(tar.bytes[0..<(512 + 3)])
    let cutScan = try await CotarIndexBuilder.build(tar: MemorySource(cut)).scan
    #expect(cutScan.terminatorPadding(fileSize: UInt64(cut.count)) == 509 + 1024)
  }

  @Test("a 0-byte file is not a tar")
  func emptyFile() async throws {
    let error = await #expect(throws: CotarError.self) { try await CotarIndexBuilder.build(tar: MemorySource([])) }
    #expect(error?.code == .invalidTar)
    #expect(error?.message.contains("empty") == true)
  }

  @Test(
    "compressed tars are recognised by their magic bytes",
    arguments: [("gz", "gzip"), ("bz2", "bzip2"), ("xz", "xz"), ("zst", "zstd"), ("lz4", "lz4")])
  func compressedInput(suffix: String, format: String) async throws {
    let path = fixturePath("realworld/gnu-basic.tar." + suffix)
    let error = await #expect(throws: CotarError.self) { try await CotarIndexBuilder.build(tar: FileSource(path: path)) }
    #expect(error?.code == .invalidTar)
    // A .tar.gz read as a plain tar is sent to its .tar.gz.index; other compressions are
    // to be decompressed.
    let expected =
      format == "gzip"
      ? "\(path) is gzip-compressed; read it as a .tar.gz with its \(path).index (build it with 'cotar index \(path)')"
      : "\(path) is \(format)-compressed; Cotar reads uncompressed and gzip-compressed tars (decompress it first)"
    #expect(error?.message == expected)
  }

  @Test("a path repeated many times costs about what distinct paths cost in reads")
  func duplicatesCostLikeOtherEntries() async throws {
    var tar = TestTar()
    for index in 0..<3000 { tar.add("same.txt", "version \(index)") }
    let bytes = tar.finished
    let counting = CountingSource(MemorySource(bytes))
    let result = try await CotarIndexBuilder.build(tar: counting)
    #expect(result.index.stats.files == 1)
    #expect(result.index.stats.duplicatesDropped == 2999)
    // One scan plus one small read per duplicate (it was a 1 MiB read-ahead each: ~3 GB).
    #expect(counting.counts.bytes < UInt64(bytes.count) + 3000 * 4096 + (1 << 20))
  }
}

/// Index reading: header/footer agreement, bounded memory, probe runs.
@Suite("Real-world indexes")
struct RealWorldIndexTests {
  /// A `.tar.co` of `count` files whose index is larger than the 64 KiB speculative read.
  static func largeCombined(count: Int = 5000) async throws -> (tar: [UInt8], index: [UInt8]) {
    var tar = TestTar()
    for index in 0..<count { tar.add("f\(index)", "") }
    let finished = tar.finished
    let index = try await buildIndex(finished).bytes
    #expect(index.count > 64 << 10)
    return (finished, index)
  }

  @Test("a header that differs from the footer is rejected whatever the index size", arguments: [3, 4, 0])
  func headerFooterMismatch(byte: Int) async throws {
    let (tar, index) = try await Self.largeCombined()
    var combined = tar + index
    combined[tar.count + byte] ^= 0x01  // magic (0) or slot count (4)
    let error = await #expect(throws: CotarError.self) { try await Cotar.open(MemorySource(combined)) }
    #expect(error?.code == .corruptIndex || error?.code == .unsupportedVersion)
    // A sidecar whose footer differs.
    var sidecar = index
    sidecar[sidecar.count - 8 + byte] ^= 0x01
    let sidecarError = await #expect(throws: CotarError.self) {
      try await CotarIndex.open(sidecar: MemorySource(sidecar))
    }
    #expect(sidecarError?.code == .corruptIndex)
    // A remote-like source (not synchronous) is checked when the table is read whole.
    // (A CountingSource over local bytes counts as local and is checked at open.)
    let countedError = await #expect(throws: CotarError.self) { try await Cotar.open(CountingSource(MemorySource(combined))) }
    #expect(countedError?.code == .corruptIndex || countedError?.code == .unsupportedVersion)
    let remote = LargestReadSource(MemorySource(combined))
    let opened = try await CotarIndex.trailing(in: remote)
    do {
      let statsError = await #expect(throws: CotarError.self) { try await opened.statistics() }
      #expect(statsError?.code == .corruptIndex)
      let validateError = await #expect(throws: CotarError.self) {
        try await CotarValidator.validate(tar: MemorySource(tar), index: opened)
      }
      #expect(validateError?.code == .corruptIndex)
    }
  }

  @Test("info and validate read a huge claimed index in bounded chunks")
  func boundedMemory() async throws {
    // A sparse 256 MiB sidecar (16 Mi empty slots), a few kB on disk.
    let slots: UInt32 = 1 << 24
    let path = ScratchSpace.path("cotar-sparse", suffix: ".index")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let header = CotarIndexHeader(slotCount: slots).serialized()
    #expect(FileManager.default.createFile(atPath: path, contents: Data(header)))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seek(toOffset: 8 + UInt64(slots) * 16)
    try handle.write(contentsOf: Data(header))
    try handle.close()
    let recorder = LargestReadSource(try FileSource(path: path))
    let index = try await CotarIndex.open(sidecar: recorder)
    let stats = try await index.statistics()
    #expect(stats.slots == Int(slots))
    #expect(stats.entries == 0)
    #expect(recorder.largest <= 1 << 20)
    var tar = TestTar()
    tar.add("a.txt", "a")
    let report = try await CotarValidator.validate(tar: MemorySource(tar.finished), index: index)
    #expect(!report.isValid)
    #expect(report.filledSlots == 0)
    #expect(recorder.largest <= 16 << 20)
  }

  @Test("validate reports an empty slot (hash 0) whose offset or size is not 0 (SPEC §4), naming the slot")
  func dirtyEmptySlot() async throws {
    var tar = TestTar()
    tar.add("a.txt", "a")
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tar.finished))
    var bytes = built.index.bytes
    let slots = (bytes.count - 16) / 16
    let empty = try #require((0..<slots).first { slot in bytes[(8 + slot * 16)..<(16 + slot * 16)].allSatisfy { $0 == 0 } })
    #expect(try await CotarValidator.validate(tar: MemorySource(tar.finished), index: CotarIndex.open(sidecar: MemorySource(bytes))).isValid)
    bytes[8 + empty * 16 + 12] = 7  // the empty slot's size
    let report = try await CotarValidator.validate(tar: MemorySource(tar.finished), index: CotarIndex.open(sidecar: MemorySource(bytes)))
    #expect(!report.isValid)
    #expect(report.problems == ["slot \(empty) (index byte \(8 + empty * 16)) is empty (hash 0) but its offset or size is not 0"])
  }

  @Test("a run of equal hashes costs O(log S) window reads; a valid index needs one")
  func geometricWindows() async throws {
    let slots: UInt32 = 100_000
    var bytes = CotarIndexHeader(slotCount: slots).serialized()
    let hash: UInt64 = 0x1234_5678_9ABC_DEF1
    let record = withUnsafeBytes(of: hash.littleEndian) { Array($0) } + [UInt8](repeating: 0, count: 8)
    for _ in 0..<slots { bytes += record }
    bytes += CotarIndexHeader(slotCount: slots).serialized()
    let counting = CountingSource(MemorySource(bytes))
    let index = try await CotarIndex.open(sidecar: counting, speculativeBytes: 8)
    counting.reset()
    #expect(try await index.lookup("absent/path") == nil)
    #expect(counting.counts.reads <= 10)  // 64, 256, 1 Ki, 4 Ki, 16 Ki, 64 Ki … slots
    // A valid index built with default options: exactly one window read.
    let (tar, valid) = try await Self.largeCombined()
    let validSource = CountingSource(MemorySource(valid))
    let validIndex = try await CotarIndex.open(sidecar: validSource, speculativeBytes: 8)
    for probe in ["f1", "f4999", "absent"] {
      validSource.reset()
      _ = try await validIndex.lookup(probe)
      #expect(validSource.counts.reads == 1)
    }
    _ = tar
  }
}

/// Records the largest single read.
final class LargestReadSource: RangeSource, @unchecked Sendable {
  let base: any RangeSource
  private let lock = NSLock()
  private var largestRead: UInt64 = 0
  init(_ base: any RangeSource) { self.base = base }
  var identity: String { base.identity }
  var largest: UInt64 { lock.withLock { largestRead } }
  func size() async throws -> UInt64 { try await base.size() }
  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    lock.withLock { largestRead = max(largestRead, UInt64(range.count)) }
    return try await base.read(range)
  }
}
