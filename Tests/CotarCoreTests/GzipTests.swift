import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// `.tar.gz` archives made by GNU tar + gzip, concatenated gzip members and Python
/// `tarfile`, indexed with seek points (SPEC §13) and read back byte-exact.
@Suite("Gzip-compressed tars", .timeLimit(.minutes(5)))
struct GzipTests {
  /// A directory of files (some compressible text, some random bytes, a few empty), so
  /// that a 64 KiB spacing gives many seek points.
  static func makeTree(files: Int = 60, seed: UInt64 = 17) throws -> (directory: URL, files: [(path: String, bytes: [UInt8])]) {
    let directory = try ScratchSpace.directory("cotar-gzip")
    try FileManager.default.createDirectory(at: directory.appendingPathComponent("tree/sub"), withIntermediateDirectories: true)
    var random = SplitMix64(seed: seed)
    var made: [(String, [UInt8])] = []
    for number in 0..<files {
      let size = number % 13 == 0 ? 0 : Int(random.next() % 60_000)
      let bytes: [UInt8] = (0..<size).map { index in
        number % 3 == 0 ? UInt8(truncatingIfNeeded: random.next()) : UInt8(ascii: "a") + UInt8((index * 7 + number) % 23)
      }
      let path = "tree/\(number % 2 == 0 ? "sub/" : "")file\(number).bin"
      try Data(bytes).write(to: directory.appendingPathComponent(path))
      made.append((path, bytes))
    }
    return (directory, made)
  }

  /// Runs `script` with `/bin/sh` in `directory`, waiting on a thread of its own (never on
  /// a cooperative thread, which the parallel suites need).
  static func shell(_ script: String, in directory: URL) async throws {
    let result = try await ProcessRunner.runDetached("/bin/sh", ["-c", script], in: directory.path)
    guard result.status == 0 else { throw CotarError(.io, "\(script): \(result.stderr)") }
  }

  /// Builds the index of `archive` and reads every file back through it.
  static func roundTrip(
    _ archive: String, files: [(path: String, bytes: [UInt8])], spacing: Int = 64 << 10
  ) async throws -> GzipIndexBuildResult {
    let source = try FileSource(path: archive)
    let built = try await GzipIndexBuilder.build(archive: source, spacing: spacing, names: .init())
    #expect(built.tar.index.stats.files == files.count)
    let cotar = try await Cotar.open(gzip: source, index: MemorySource(built.bytes))
    for file in files {
      #expect(try await cotar.read(file.path) == file.bytes, "\(file.path)")
    }
    // The v2 part is where the v2 rules find it from the end (SPEC §13.1).
    let trailing = try await CotarIndex.trailing(in: MemorySource(built.bytes))
    #expect(trailing.baseOffset == built.header.v2Offset)
    #expect(try await cotar.nameTable()?.count == built.tar.names.map { _ in files.count + 2 })
    return built
  }

  @Test("GNU tar piped through gzip: one member, seek points with windows, every file exact")
  func gnuTarGzip() async throws {
    let (directory, files) = try Self.makeTree()
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("tar cf - tree | gzip -6 > a.tar.gz", in: directory)
    let built = try await Self.roundTrip(directory.appendingPathComponent("a.tar.gz").path, files: files)
    #expect(built.members == 1)
    #expect(built.points.filter { $0.kind == .blockBoundary }.count >= 5)
    #expect(built.points.contains { $0.compressedBitOffset % 8 != 0 })
  }

  @Test("concatenated gzip members split mid-entry (as pigz or `gzip -c a; gzip -c b` write)")
  func concatenatedMembers() async throws {
    let (directory, files) = try Self.makeTree(seed: 99)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell(
      "tar cf a.tar tree && head -c 300001 a.tar | gzip -1 > c.tar.gz && tail -c +300002 a.tar | head -c 500000 | gzip -9 >> c.tar.gz && tail -c +800002 a.tar | gzip >> c.tar.gz && gzip -t c.tar.gz",
      in: directory)
    let built = try await Self.roundTrip(directory.appendingPathComponent("c.tar.gz").path, files: files)
    #expect(built.members == 3)
    #expect(built.points.filter { $0.kind == .memberStart }.count >= 2)
  }

  @Test("Python tarfile w:gz")
  func pythonTarfile() async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let (directory, files) = try Self.makeTree(seed: 5)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("python3 -c \"import tarfile; t = tarfile.open('p.tar.gz', 'w:gz'); t.add('tree'); t.close()\"", in: directory)
    _ = try await Self.roundTrip(directory.appendingPathComponent("p.tar.gz").path, files: files, spacing: 100_000)
  }

  @Test("a truncated .tar.gz is refused naming the compressed offset")
  func truncated() async throws {
    let (directory, _) = try Self.makeTree(files: 20)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("tar cf - tree | gzip > a.tar.gz && head -c 200000 a.tar.gz > t.tar.gz", in: directory)
    let error = await #expect(throws: CotarError.self) {
      try await GzipIndexBuilder.build(archive: FileSource(path: directory.appendingPathComponent("t.tar.gz").path))
    }
    #expect(error?.code == .truncated)
    #expect(error?.offset == 200_000)
    // The offset is said once, as the archive's byte.
    #expect(error?.description.hasSuffix("t.tar.gz, byte 200000: the gzip data ends in the middle of a member") == true, "\(String(describing: error))")
  }

  @Test("corrupt deflate data is refused naming the compressed offset where it was found")
  func corrupt() async throws {
    let (directory, _) = try Self.makeTree(files: 20)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("tar cf - tree | gzip > a.tar.gz", in: directory)
    var bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent("a.tar.gz")))
    for index in 150_000..<150_400 { bytes[index] = 0xFF }
    let error = await #expect(throws: CotarError.self) {
      try await GzipIndexBuilder.build(archive: MemorySource(bytes, identity: "bad.tar.gz"))
    }
    #expect(error?.code == .invalidTar)
    let offset = try #require(error?.offset)
    // Found at the damage, or at the member's CRC-32 check when the damage decoded (stored blocks).
    #expect(offset >= 150_000 && offset <= UInt64(bytes.count), "\(offset)")
    #expect(error?.description.hasPrefix("bad.tar.gz, byte \(offset): the gzip data is corrupt (") == true, "\(String(describing: error))")
    #expect(error?.message.contains("compressed byte") == false)
    #expect(error?.source == "bad.tar.gz")
  }

  @Test("not gzip, trailing garbage and an empty file are refused; trailing zeros are ignored")
  func notGzip() async throws {
    let plain = TarBytes.make([("a.txt", Array("hello".utf8))])
    let notGzip = await #expect(throws: CotarError.self) { try await GzipIndexBuilder.build(archive: MemorySource(plain)) }
    #expect(notGzip?.code == .invalidTar)
    let empty = await #expect(throws: CotarError.self) { try await GzipIndexBuilder.build(archive: MemorySource([])) }
    #expect(empty?.code == .invalidTar)
    let member = try await Self.gzip(plain)
    let padded = try await GzipIndexBuilder.build(archive: MemorySource(member + [UInt8](repeating: 0, count: 700)))
    #expect(padded.tar.index.stats.files == 1)
    let garbage = await #expect(throws: CotarError.self) {
      try await GzipIndexBuilder.build(archive: MemorySource(member + [0, 0, 7]))
    }
    #expect(garbage?.code == .invalidTar)
    #expect(garbage?.offset == UInt64(member.count + 2))
  }

  /// `bytes` gzipped by the gzip tool.
  static func gzip(_ bytes: [UInt8]) async throws -> [UInt8] {
    let directory = try ScratchSpace.directory("cotar-gz")
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data(bytes).write(to: directory.appendingPathComponent("in"))
    try await shell("gzip -n in", in: directory)
    return try [UInt8](Data(contentsOf: directory.appendingPathComponent("in.gz")))
  }

  @Test("an index built for another archive is refused; a damaged index is refused")
  func mismatchedIndex() async throws {
    let (directory, files) = try Self.makeTree(files: 20)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("tar cf - tree | gzip > a.tar.gz && tar cf - tree | gzip -1 > b.tar.gz", in: directory)
    let a = try FileSource(path: directory.appendingPathComponent("a.tar.gz").path)
    let b = try FileSource(path: directory.appendingPathComponent("b.tar.gz").path)
    let built = try await GzipIndexBuilder.build(archive: a, spacing: 64 << 10)
    let wrong = await #expect(throws: CotarError.self) { try await Cotar.open(gzip: b, index: MemorySource(built.bytes)) }
    #expect(wrong?.code == .sourceChanged)
    // Same size, other bytes at the end: caught by the last block's CRC.
    var aBytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent("a.tar.gz")))
    aBytes[aBytes.count - 9] ^= 0x55
    let changed = await #expect(throws: CotarError.self) {
      try await Cotar.open(gzip: MemorySource(aBytes, identity: "a.tar.gz"), index: MemorySource(built.bytes))
    }
    #expect(changed?.code == .sourceChanged)
    // A remote-like source is checked by size on every read.
    let remoteLike = try await GzipArchiveIndex.open(
      archive: MemorySource(Array(aBytes.dropLast()), identity: "http://host/a.tar.gz"), index: MemorySource(built.bytes))
    let onRead = await #expect(throws: CotarError.self) { try await remoteLike.tar.read(0..<512) }
    #expect(onRead?.code == .sourceChanged)
    // Damaged header and seek-point table.
    for (position, code) in [(3, CotarError.Code.invalidMagic), (20, .corruptIndex), (64 + 40, .corruptIndex)] {
      var damaged = built.bytes
      damaged[position] ^= 0x01
      let error = await #expect(throws: CotarError.self) { try await Cotar.open(gzip: a, index: MemorySource(damaged)) }
      #expect(error?.code == code, "byte \(position)")
    }
    // A plain v2 sidecar for a .tar.gz gets advice.
    let plain = try await CotarIndexBuilder.build(tar: MemorySource(TarBytes.make(files.map { ($0.path, $0.bytes) })))
    let advice = await #expect(throws: CotarError.self) { try await Cotar.open(gzip: a, index: MemorySource(plain.index.bytes)) }
    #expect(advice?.code == .invalidMagic)
    #expect(advice?.message.contains("cotar index") == true)
  }

  @Test("windowProblems names every seek point whose stored window does not inflate; a sound index has none")
  func damagedWindowsAreFound() async throws {
    let (directory, _) = try Self.makeTree(files: 60, seed: 29)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("tar cf - tree | gzip > a.tar.gz", in: directory)
    let archive = try FileSource(path: directory.appendingPathComponent("a.tar.gz").path)
    let built = try await GzipIndexBuilder.build(archive: archive, spacing: 64 << 10)
    let sound = try await GzipArchiveIndex.open(archive: archive, index: MemorySource(built.bytes))
    #expect(try await sound.tar.windowProblems() == [])
    let windowed = sound.tar.points.enumerated().filter { $0.element.kind == .blockBoundary && $0.element.windowLength > 0 }
    let (number, point) = try #require(windowed.dropFirst().first)
    var damaged = built.bytes
    damaged[Int(sound.header.windowsOffset + point.windowOffset) + Int(point.windowLength) / 2] ^= 0x21
    let opened = try await GzipArchiveIndex.open(archive: archive, index: MemorySource(damaged))
    let problems = try await opened.tar.windowProblems()
    #expect(problems.count == 1, "\(problems)")
    #expect(problems.first?.hasPrefix("seek point \(number) (tar byte \(point.uncompressedOffset))") == true, "\(problems)")
  }

  @Test("a byte flipped inside a stored block inflates fine, but the segment CRC refuses a read that ends before the member's trailer")
  func segmentCRCCatchesCorruptionThatInflates() async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let (directory, files) = try Self.makeTree(files: 60, seed: 23)
    defer { try? FileManager.default.removeItem(at: directory) }
    // Level 0: stored blocks, whose bytes are the tar's own, so a flipped byte still inflates.
    try await Self.shell(
      "tar cf a.tar tree && python3 -c \"import gzip; open('s.tar.gz', 'wb').write(gzip.compress(open('a.tar', 'rb').read(), compresslevel=0))\"",
      in: directory)
    let good = try [UInt8](Data(contentsOf: directory.appendingPathComponent("s.tar.gz")))
    let built = try await GzipIndexBuilder.build(archive: MemorySource(good, identity: "s.tar.gz"), spacing: 64 << 10)
    #expect(built.members == 1 && built.header.version == 2)
    #expect(built.points.count > 10 && built.points.allSatisfy { $0.segmentCRC != nil })
    // A random-byte file in the middle of the archive; flip a byte inside its stored bytes.
    let victim = try #require(files.enumerated().first { $0.offset > 25 && $0.offset % 3 == 0 && $0.element.bytes.count > 4000 }?.element)
    let needle = Array(victim.bytes[1000..<1128])
    let found = try #require((0..<(good.count - needle.count)).first { good[$0] == needle[0] && Array(good[$0..<($0 + needle.count)]) == needle })
    var bad = good
    bad[found + 64] ^= 0x20
    let flipped = UInt64(found + 64)
    // gzip itself only notices at the member's trailer, which this read never reaches.
    let cotar = try await Cotar.open(gzip: MemorySource(bad, identity: "s.tar.gz"), index: MemorySource(built.bytes))
    let error = await #expect(throws: CotarError.self) { try await cotar.read(victim.path) }
    let segment = try #require(built.points.last { $0.compressedByteOffset <= flipped })
    #expect(error?.code == .invalidTar)
    #expect(error?.offset == segment.compressedByteOffset, "\(String(describing: error))")
    #expect(error?.message.contains("the segment starting at this byte") == true, "\(String(describing: error))")
    #expect(String(describing: error).contains("byte \(segment.compressedByteOffset): "), "\(String(describing: error))")
    #expect(error?.source == "s.tar.gz")
    // Only 16 bytes of the file, before the flipped byte: its whole segment is still checked.
    let entry = try #require(try await cotar.entry(victim.path))
    let head = await #expect(throws: CotarError.self) { try await cotar.data.read(entry.offset..<(entry.offset + 16)) }
    #expect(head?.code == .invalidTar)
    // Files in other segments read fine; the intact archive reads every file.
    let far = try #require(files.first { !$0.bytes.isEmpty })
    #expect(try await cotar.read(far.path) == far.bytes)
    let intact = try await Cotar.open(gzip: MemorySource(good, identity: "s.tar.gz"), index: MemorySource(built.bytes))
    for file in files { #expect(try await intact.read(file.path) == file.bytes, "\(file.path)") }
  }

  /// `index` (version 2) rewritten in the version 1 layout: no segment CRCs.
  static func versionOne(_ index: [UInt8]) async throws -> [UInt8] {
    var header = try GzipIndexHeader(parsing: index, fileSize: UInt64(index.count))
    let table = Array(index[64..<Int(header.windowsOffset)])
    let points = try header.parsePoints(table)
    let rest = Array(index[Int(header.windowsOffset)...])
    header.version = 1
    let oldTable = header.serializeTable(points)
    header.pointTableCRC = CRC32.checksum(oldTable)
    header.v2Offset -= UInt64(table.count - oldTable.count)
    return header.serialized() + oldTable + rest
  }

  @Test("a version 1 index (no segment CRCs) is still read; an unknown version is refused")
  func versionOneIndexes() async throws {
    let (directory, files) = try Self.makeTree(files: 30, seed: 8)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("tar cf - tree | gzip > a.tar.gz", in: directory)
    let archive = try FileSource(path: directory.appendingPathComponent("a.tar.gz").path)
    let built = try await GzipIndexBuilder.build(archive: archive, spacing: 64 << 10, names: .init())
    let old = try await Self.versionOne(built.bytes)
    #expect(old.count == built.bytes.count - 4 * built.points.count)
    let parsed = try await GzipArchiveIndex.open(archive: archive, index: MemorySource(old))
    #expect(parsed.header.version == 1 && !parsed.header.hasSegmentCRCs)
    #expect(parsed.tar.points.allSatisfy { $0.segmentCRC == nil })
    let cotar = try await Cotar.open(gzip: archive, index: MemorySource(old))
    for file in files { #expect(try await cotar.read(file.path) == file.bytes, "\(file.path)") }
    #expect(try await cotar.nameTable()?.count == files.count + 2)
    var future = try GzipIndexHeader(parsing: built.bytes, fileSize: UInt64(built.bytes.count))
    future.version = 3
    let refused = await #expect(throws: CotarError.self) {
      try await Cotar.open(gzip: archive, index: MemorySource(future.serialized() + built.bytes.dropFirst(64)))
    }
    #expect(refused?.code == .unsupportedVersion)
    #expect(refused?.message.contains("cotar index") == true)
  }

  @Test("random bytes and cut-short indexes never crash the parser", arguments: 0..<4)
  func hostileIndexes(seed: UInt64) async throws {
    let (directory, _) = try Self.makeTree(files: 8, seed: seed)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell("tar cf - tree | gzip > a.tar.gz", in: directory)
    let archive = try FileSource(path: directory.appendingPathComponent("a.tar.gz").path)
    let built = try await GzipIndexBuilder.build(archive: archive, spacing: 64 << 10)
    var random = SplitMix64(seed: seed)
    for round in 0..<100 {
      var bytes = built.bytes
      if round % 2 == 0 {
        bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))
      } else {
        for _ in 0..<4 { bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next()) }
      }
      // Any outcome but a crash or a hang is fine; a damaged index must not return wrong bytes silently
      // when its header or table was hit (the CRCs catch that).
      _ = try? await Cotar.open(gzip: archive, index: MemorySource(bytes)).read("tree/file1.bin")
    }
  }
}
