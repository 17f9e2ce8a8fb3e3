import CotarCore
import CotarTestSupport
import Testing

/// The index build hands plain members (files, directories, symlinks without extended
/// headers) to the name table straight from their raw headers; these tests pin that the table
/// is byte-identical to the one built from the general scan's `TarEntry` values.
@Suite("Name table from in-place parsed members")
struct NameTableInPlaceTests {
  /// The table built from every member as the general scan yields it.
  static func generalTable(_ source: any RangeSource) async throws -> [UInt8] {
    var builder = NameTableBuilder()
    _ = try await TarScanner(source: source).scan { builder.add($0) }
    return try builder.build()
  }

  /// The table of an index build, reading ahead `readAhead` bytes at a time.
  static func indexBuildTable(_ source: any RangeSource, readAhead: Int) async throws -> [UInt8] {
    var scanOptions = TarScanner.Options()
    scanOptions.readAheadBytes = readAhead
    let built = try await CotarIndexBuilder.build(tar: source, scanOptions: scanOptions, names: .init())
    return try #require(built.names)
  }

  /// A GNU long-name member (`L`) followed by a file with that name.
  static func addLongName(_ name: String, text: String, to tar: inout TestTar) {
    tar.add(Array("././@LongLink".utf8), data: Array(name.utf8) + [0], typeflag: UInt8(ascii: "L"))
    tar.add(Array(name.utf8.prefix(100)), data: Array(text.utf8))
  }

  /// A PAX extended header (`x` or `g`) holding one record `key=value`.
  static func addPax(_ key: String, _ value: String, typeflag: UInt8, to tar: inout TestTar) {
    let body = " \(key)=\(value)\n"
    var length = body.utf8.count + 1
    while String(length).utf8.count + body.utf8.count != length { length += 1 }
    tar.add(Array("PaxHeader".utf8), data: Array("\(length)\(body)".utf8), typeflag: typeflag)
  }

  /// A tar with every member kind, plain and extended, replacements across kinds, hard links
  /// to files, links and symlinks, and a global PAX header late on (after which no member is
  /// plain).
  static func everyKindTar() -> [UInt8] {
    var tar = TestTar()
    tar.add(Array("top/".utf8), typeflag: UInt8(ascii: "5"))
    tar.add(Array("top/v7dir/".utf8), typeflag: 0)
    tar.add("top/a.txt", "alpha")
    tar.add(Array("top/contiguous".utf8), data: Array("seven".utf8), typeflag: UInt8(ascii: "7"), mtime: 1_700_000_000)
    tar.add(Array("top/nul-typed".utf8), data: Array("nul".utf8), typeflag: 0, mtime: 12)
    tar.add(Array("top/sym".utf8), typeflag: UInt8(ascii: "2"), link: Array("a.txt".utf8))
    tar.add(Array("top/hard".utf8), typeflag: UInt8(ascii: "1"), link: Array("top/a.txt".utf8))
    tar.add(Array("top/hard-to-sym".utf8), typeflag: UInt8(ascii: "1"), link: Array("top/sym".utf8))
    tar.add(Array("top/fifo".utf8), typeflag: UInt8(ascii: "6"))
    tar.add(Array("top/device".utf8), typeflag: UInt8(ascii: "3"))
    tar.add(Array("top/label".utf8), typeflag: UInt8(ascii: "V"))
    addLongName("top/" + String(repeating: "long/", count: 30) + "file.txt", text: "long", to: &tar)
    addPax("path", "top/pax-named.txt", typeflag: UInt8(ascii: "x"), to: &tar)
    tar.add("ignored-name", "pax")
    addPax("mtime", "1234567890.5", typeflag: UInt8(ascii: "x"), to: &tar)
    tar.add("top/pax-mtime.txt", "mtime")
    // Replacements: a file by a symlink, a symlink by a file, a directory by a file.
    tar.add(Array("top/a.txt".utf8), typeflag: UInt8(ascii: "2"), link: Array("contiguous".utf8))
    tar.add("top/sym", "now a file")
    tar.add("top/v7dir/", "")
    tar.add(Array("top/hard2".utf8), typeflag: UInt8(ascii: "1"), link: Array("top/sym".utf8))
    tar.add("top/a.txt", "alpha again")
    addPax("comment", "global", typeflag: UInt8(ascii: "g"), to: &tar)
    tar.add("top/after-global.txt", "late")
    tar.add(Array("top/sym-after-global".utf8), typeflag: UInt8(ascii: "2"), link: Array("a.txt".utf8))
    return tar.finished
  }

  @Test("a tar with every member kind gives the general scan's table", arguments: [512, 1536, 1 << 20])
  func everyKind(readAhead: Int) async throws {
    let source = MemorySource(Self.everyKindTar())
    let general = try await Self.generalTable(source)
    #expect(try await Self.indexBuildTable(source, readAhead: readAhead) == general)
    // The table holds what was fed: the replacements won.
    let table = try #require(try await NameTable.open(in: MemorySource(general), endingAt: UInt64(general.count)))
    #expect(try await table.stat("top/a.txt")?.size == 11)
    #expect(try await table.stat("top/sym")?.kind == .file)
    #expect(try await table.stat("top/pax-named.txt")?.kind == .file)
    #expect(try await table.stat("top/pax-mtime.txt")?.mtime == 1_234_567_890)
    #expect(try await table.stat("top/contiguous")?.mtime == 1_700_000_000)
    #expect(try await table.stat("top/sym-after-global")?.linkTarget == "a.txt")
  }

  @Test("every indexed fixture gives the general scan's table", arguments: FixtureManifest.indexed)
  func fixtures(fixture: FixtureManifest.Fixture) async throws {
    let source = try FileSource(path: fixturePath(fixture.name))
    let general = try await Self.generalTable(source)
    #expect(try await Self.indexBuildTable(source, readAhead: 1 << 20) == general)
    #expect(try await Self.indexBuildTable(source, readAhead: 1024) == general)
  }
}
