import CotarCore
import CotarTestSupport
import Foundation
import Testing

@Suite("Name table")
struct NameTableTests {
  @Test("CRC-32 gives the standard check value and continues across chunks")
  func crc32() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([UInt8]()) == 0)
    let whole = CRC32.checksum(Array("hello, world".utf8))
    #expect(CRC32.checksum(Array(", world".utf8), continuing: CRC32.checksum(Array("hello".utf8))) == whole)
  }

  /// A tar with files, directories, a symlink, a hard link and a duplicate path.
  static func sampleTar() -> [UInt8] {
    var tar = TestTar()
    tar.add(Array("docs/".utf8), typeflag: UInt8(ascii: "5"))
    tar.add("docs/a.txt", "alpha")
    tar.add("docs/b.txt", "bravo!")
    tar.add("docs/sub/c.txt", "charlie")
    tar.add(Array("docs/link".utf8), typeflag: UInt8(ascii: "2"), link: Array("a.txt".utf8))
    tar.add(Array("docs/hard".utf8), typeflag: UInt8(ascii: "1"), link: Array("docs/b.txt".utf8))
    tar.add("top.txt", "top")
    tar.add("docs/a.txt", "alpha, second")
    return tar.finished
  }

  static func table(_ tar: [UInt8], options: NameTableBuilder.Options = .init()) async throws -> (bytes: [UInt8], table: NameTable) {
    let result = try await CotarIndexBuilder.build(tar: MemorySource(tar), names: options)
    let names = try #require(result.names)
    let table = try #require(try await NameTable.open(in: MemorySource(names), endingAt: UInt64(names.count)))
    return (names, table)
  }

  @Test("every member is listed once, sorted, the last duplicate winning, hard links resolved")
  func contents() async throws {
    let tar = Self.sampleTar()
    let (_, table) = try await Self.table(tar)
    let all = try await table.entries(withPrefix: [])
    #expect(all.map(\.path) == ["docs/", "docs/a.txt", "docs/b.txt", "docs/hard", "docs/link", "docs/sub/c.txt", "top.txt"])
    let a = try #require(try await table.stat("docs/a.txt"))
    #expect(a.kind == .file && a.size == 13 && a.mode == 0o644)
    #expect(Array(tar[Int(a.dataOffset)..<Int(a.dataOffset + a.size)]) == Array("alpha, second".utf8))
    let b = try #require(try await table.stat("docs/b.txt"))
    let hard = try #require(try await table.stat("docs/hard"))
    #expect(hard.kind == .hardLink && hard.dataOffset == b.dataOffset && hard.size == 6 && hard.linkTarget == "docs/b.txt")
    #expect(try await table.stat("docs/link")?.linkTarget == "a.txt")
    #expect(try await table.stat("docs/link")?.kind == .symbolicLink)
    #expect(try await table.stat("docs") == nil)
    #expect(try await table.contains("docs"))
    #expect(try await table.contains("docs/sub/"))
    #expect(try await !table.contains("doc"))
    // The same listing as a scan of the tar.
    let scanned = try await NameTable.scanning(tar: MemorySource(tar))
    #expect(try await scanned.entries(withPrefix: []) == all)
  }

  @Test("a hard link takes its target's data as of the link: through links, to later replaced or missing targets")
  func hardLinkResolution() async throws {
    var tar = TestTar()
    tar.add("z/file", "first")
    tar.add(Array("z/link1".utf8), typeflag: UInt8(ascii: "1"), link: Array("z/file".utf8))
    tar.add(Array("z/link2".utf8), typeflag: UInt8(ascii: "1"), link: Array("z/link1".utf8))
    tar.add(Array("z/dangling".utf8), typeflag: UInt8(ascii: "1"), link: Array("z/nothing".utf8))
    tar.add(Array("z/to-dangling".utf8), typeflag: UInt8(ascii: "1"), link: Array("z/dangling".utf8))
    tar.add(Array("z/to-dir".utf8), typeflag: UInt8(ascii: "1"), link: Array("z/dir".utf8))
    tar.add(Array("z/dir".utf8), typeflag: UInt8(ascii: "5"))
    tar.add(Array("z/late".utf8), typeflag: UInt8(ascii: "1"), link: Array("z/dir".utf8))
    tar.add("z/file", "second, longer")
    tar.add(Array("z/link3".utf8), typeflag: UInt8(ascii: "1"), link: Array("z/file".utf8))
    tar.add("a", "sorted first")
    tar.add("z/dir/x", "under the directory")
    // Straight from a scan: the index builder refuses links to missing targets.
    var builder = NameTableBuilder()
    _ = try await TarScanner(source: MemorySource(tar.finished)).scan { builder.add($0) }
    let bytes = try builder.build()
    let table = try #require(try await NameTable.open(in: MemorySource(bytes), endingAt: UInt64(bytes.count)))
    let all = try await table.entries(withPrefix: [])
    #expect(
      all.map(\.path) == [
        "a", "z/dangling", "z/dir", "z/dir/x", "z/file", "z/late", "z/link1", "z/link2", "z/link3", "z/to-dangling",
        "z/to-dir",
      ])
    let byPath = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })
    let file = try #require(byPath["z/file"])
    #expect(file.size == 14)
    let first = try #require(byPath["z/link1"])
    // link1 and link2 keep the first z/file's bytes; link3 has the second's.
    #expect(first.size == 5 && first.dataOffset < file.dataOffset)
    #expect(byPath["z/link2"]?.dataOffset == first.dataOffset && byPath["z/link2"]?.size == 5)
    #expect(byPath["z/link3"]?.dataOffset == file.dataOffset && byPath["z/link3"]?.size == 14)
    for unresolved in ["z/dangling", "z/to-dangling", "z/to-dir", "z/late"] {
      #expect(byPath[unresolved]?.kind == .hardLink && byPath[unresolved]?.size == 0 && byPath[unresolved]?.dataOffset == 0, "\(unresolved)")
    }
    // A scan of the tar agrees.
    #expect(try await NameTable.scanning(tar: MemorySource(tar.finished)).entries(withPrefix: []) == all)
  }

  @Test("listdir lists one level with implied directories and du totals")
  func listdir() async throws {
    let (_, table) = try await Self.table(Self.sampleTar())
    let top = try await table.listdir("")
    #expect(top.map(\.nameText) == ["docs", "top.txt"])
    #expect(top[0].isDirectory && top[0].totalBytes == 13 + 6 + 7)
    let docs = try await table.listdir("docs/")
    #expect(docs.map(\.nameText) == ["a.txt", "b.txt", "hard", "link", "sub"])
    #expect(docs.last?.isDirectory == true && docs.last?.entry == nil)
    #expect(try await table.listdir("docs") == docs)
    var walked: [String] = []
    for try await entry in table.walk("docs/sub") { walked.append(entry.path) }
    #expect(walked == ["docs/sub/c.txt"])
  }

  @Test("glob patterns: *, ?, [...], **", arguments: [
    ("docs/*.txt", ["docs/a.txt", "docs/b.txt"]),
    ("docs/?.txt", ["docs/a.txt", "docs/b.txt"]),
    ("docs/[!a].txt", ["docs/b.txt"]),
    ("**/*.txt", ["docs/a.txt", "docs/b.txt", "docs/sub/c.txt", "top.txt"]),
    ("docs/**/*.txt", ["docs/a.txt", "docs/b.txt", "docs/sub/c.txt"]),
    ("**.txt", ["docs/a.txt", "docs/b.txt", "docs/sub/c.txt", "top.txt"]),
    ("docs/**/c.txt", ["docs/sub/c.txt"]),
    ("*", ["top.txt"]),
    ("docs/[a-b]*", ["docs/a.txt", "docs/b.txt"]),
  ])
  func glob(pattern: String, expected: [String]) async throws {
    let (_, table) = try await Self.table(Self.sampleTar())
    #expect(try await table.glob(pattern).map(\.path) == expected)
  }

  @Test("glob matching edge cases")
  func globMatcher() {
    #expect(GlobPattern("a/**/b").matches(Array("a/b".utf8)))
    #expect(GlobPattern("a/**/b").matches(Array("a/x/y/b".utf8)))
    #expect(!GlobPattern("a/**/b").matches(Array("a/xb".utf8)))
    #expect(!GlobPattern("a*").matches(Array("a/b".utf8)))
    #expect(GlobPattern("tiles/1?/**/*.pbf").literalPrefix == Array("tiles/1".utf8))
    #expect(GlobPattern("[").matches(Array("[".utf8)))
    // A hostile pattern is linear, not exponential.
    #expect(!GlobPattern(String(repeating: "*a", count: 200) + "b").matches([UInt8](repeating: UInt8(ascii: "a"), count: 2000)))
  }

  @Test("many entries split into blocks; a directory query reads only its blocks")
  func blocks() async throws {
    var tar = TestTar()
    for directory in 0..<40 {
      for file in 0..<200 { tar.add("d\(String(format: "%02d", directory))/file-\(String(format: "%04d", file)).bin", [UInt8(file & 0xFF)]) }
    }
    let bytes = tar.finished
    // Stored blocks, so that the table is larger than the speculative read.
    let (names, table) = try await Self.table(bytes, options: .init(targetBlockBytes: 4096, compress: false))
    #expect(table.blockCount > 10)
    #expect(table.count == 8000)
    let counting = CountingSource(MemorySource(names))
    let opened = try #require(try await NameTable.open(in: counting, endingAt: UInt64(names.count), speculativeBytes: 8192))
    #expect(counting.counts.reads == 1)
    let listed = try await opened.listdir("d17")
    #expect(listed.count == 200)
    #expect(counting.counts.reads == 2)
    #expect(counting.counts.bytes < UInt64(names.count) / 5)
    let compressed = try await Self.table(bytes, options: .init(targetBlockBytes: 4096))
    #expect(try await compressed.table.entries(withPrefix: []) == (try await table.entries(withPrefix: [])))
    #expect(compressed.bytes.count < names.count / 4)
  }

  @Test("SPEC §12.4's two-record block, byte for byte")
  func specExampleBlock() async throws {
    var builder = NameTableBuilder(options: .init(compress: false))
    builder.add(NameEntry(pathBytes: Array("a/".utf8), kind: .directory, size: 0, mode: 0o755, mtime: 100))
    builder.add(NameEntry(pathBytes: Array("a/b".utf8), kind: .file, size: 5, dataOffset: 512, mode: 0o644, mtime: 90))
    let bytes = try builder.build()
    let columns: [UInt8] = [
      0x00, 0x02, 0x02, 0x00, 0x02,
      0x00, 0x05, 0x05, 0x02, 0x61, 0x2F, 0x01, 0x62,
      0x00, 0x02, 0x02, 0x01, 0x00,
      0x00, 0x01, 0x01, 0x05,
      0x00, 0x01, 0x01, 0x02,
      0x00, 0x04, 0x04, 0xED, 0x03, 0xA4, 0x03,
      0x00, 0x04, 0x04, 0xC8, 0x01, 0xB4, 0x01,
      0x00, 0x00, 0x00,
    ]
    #expect(Array(bytes[4..<(4 + columns.count)]) == columns)
    let raw: [UInt8] = [0x00, 0x02, 0x02, 0x61, 0x2F, 0x01, 0x62, 0x01, 0x00, 0x05, 0x02, 0xED, 0x03, 0xA4, 0x03, 0xC8, 0x01, 0xB4, 0x01]
    #expect(bytes[0..<4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } == CRC32.checksum(raw))
    let table = try #require(try await NameTable.open(in: MemorySource(bytes), endingAt: UInt64(bytes.count)))
    #expect(table.blocks.first?.length == UInt32(4 + columns.count))
    let entries = try await table.entries(withPrefix: [])
    #expect(entries.map(\.path) == ["a/", "a/b"])
    #expect(entries[1].dataOffset == 512 && entries[1].size == 5 && entries[0].mtime == 100 && entries[1].mtime == 90)
  }

  @Test("data offsets in and out of path order, sizes and mtimes round-trip (column predictors)")
  func predictors() async throws {
    var builder = NameTableBuilder()
    var random = SplitMix64(seed: 7)
    var expected: [NameEntry] = []
    for index in 0..<3000 {
      let kind: NameEntry.Kind = [.file, .file, .file, .directory, .symbolicLink, .hardLink, .other][index % 7]
      let data = kind == .file || kind == .hardLink
      let entry = NameEntry(
        pathBytes: Array("p/\(random.next() % 1000)/\(index)".utf8), kind: kind,
        size: kind == .directory || kind == .symbolicLink ? 0 : random.next() % (1 << 40),
        dataOffset: data ? (random.next() % (1 << 50)) * 512 : 0, mode: UInt32(truncatingIfNeeded: random.next()),
        mtime: Int64(bitPattern: random.next()) >> Int64(random.next() % 64),
        linkTargetBytes: kind == .symbolicLink || kind == .hardLink ? Array("t\(index)".utf8) : nil)
      builder.add(entry)
      expected.append(entry)
    }
    let bytes = try builder.build()
    let table = try #require(try await NameTable.open(in: MemorySource(bytes), endingAt: UInt64(bytes.count)))
    #expect(table.blockCount > 1)
    let sorted = expected.sorted { $0.pathBytes.lexicographicallyPrecedes($1.pathBytes) }
    #expect(try await table.entries(withPrefix: []) == sorted)
  }

  @Test("a table of an unknown version is refused by nameTable(), absent for readableNameTable(); the archive still reads")
  func unknownVersionInATarCo() async throws {
    let tar = Self.sampleTar()
    let result = try await CotarIndexBuilder.build(tar: MemorySource(tar), names: .init())
    var names = try #require(result.names)
    names[names.count - 36] = 1  // the trailer's version byte (SPEC §12.1), as a version-1 table
    let cotar = try await Cotar.open(MemorySource(tar + names + result.index.bytes))
    let refused = await #expect(throws: CotarError.self) { _ = try await cotar.nameTable() }
    #expect(refused?.code == .unsupportedVersion)
    #expect(try await cotar.readableNameTable() == nil)
    #expect(try await cotar.read("top.txt") == Array("top".utf8))
  }

  @Test("damaged tables are refused with corruptIndex; a missing one is nil")
  func damage() async throws {
    let (names, _) = try await Self.table(Self.sampleTar())
    #expect(try await NameTable.open(in: MemorySource(Self.sampleTar()), endingAt: 2048) == nil)
    for position in [0, 5, 12, names.count - 30, names.count - 2] {
      var broken = names
      broken[position] ^= 0x40
      let error = await #expect(throws: CotarError.self) {
        let table = try await NameTable.open(in: MemorySource(broken), endingAt: UInt64(broken.count))
        _ = try await table?.entries(withPrefix: [])
      }
      #expect(error?.code == .corruptIndex, "byte \(position)")
    }
    var version = names
    for number: UInt8 in [1, 9] {
      version[names.count - 36] = number
      let refused = await #expect(throws: CotarError.self) {
        try await NameTable.open(in: MemorySource(version), endingAt: UInt64(version.count))
      }
      #expect(refused?.code == .unsupportedVersion)
      #expect(refused?.message.contains("version \(number)") == true)
    }
    let cut = Array(names.suffix(50))
    let error = await #expect(throws: CotarError.self) { try await NameTable.open(in: MemorySource(cut), endingAt: UInt64(cut.count)) }
    #expect(error?.code == .corruptIndex)
  }
}
