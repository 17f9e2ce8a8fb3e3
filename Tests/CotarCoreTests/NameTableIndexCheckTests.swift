import CotarCore
import CotarTestSupport
import Testing

/// SPEC §12.5: a reader checks a name table's data offsets against the index before it reads
/// at them, so a table of another build of the tar (a stale `X.tar.names`) is refused.
@Suite("Name-table offsets checked against the index")
struct NameTableIndexCheckTests {
  /// The index and name table of `tar`, opened over memory.
  static func built(_ tar: [UInt8]) async throws -> (cotar: Cotar, table: NameTable) {
    let result = try await CotarIndexBuilder.build(tar: MemorySource(tar), names: .init())
    let names = try #require(result.names)
    let table = try #require(try await NameTable.open(in: MemorySource(names, identity: "d.tar.names"), endingAt: UInt64(names.count)))
    let cotar = try await Cotar.open(tar: MemorySource(tar, identity: "d.tar"), index: MemorySource(result.index.bytes))
    return (cotar, table)
  }

  /// a.txt, b.txt, a symlink and a hard link to it (no data, in no index), in `order`.
  static func tar(a: String, b: String, aFirst: Bool) -> [UInt8] {
    var tar = TestTar()
    if aFirst { tar.add("a.txt", a) }
    tar.add("b.txt", b)
    if !aFirst { tar.add("a.txt", a) }
    tar.add(Array("link".utf8), typeflag: UInt8(ascii: "2"), link: Array("a.txt".utf8))
    tar.add(Array("hard-to-link".utf8), typeflag: UInt8(ascii: "1"), link: Array("link".utf8))
    tar.add(Array("b-again".utf8), typeflag: UInt8(ascii: "1"), link: Array("b.txt".utf8))
    return tar.finished
  }

  @Test("the table of the same build passes, hard links included; reads give the index's bytes")
  func matchingTable() async throws {
    let (cotar, table) = try await Self.built(Self.tar(a: "one\n", b: "two two\n", aFirst: true))
    let entries = try await table.entries(withPrefix: []).filter { $0.kind == .file || $0.kind == .hardLink }
    #expect(entries.count == 4)
    let located = try await cotar.located(entries, in: table)
    for (entry, location) in zip(entries, located) {
      if entry.path == "hard-to-link" { continue }
      #expect(try await cotar.entry(pathBytes: entry.pathBytes) == location)
    }
    let a = try #require(try await table.stat(pathBytes: Array("a.txt".utf8)))
    #expect(try await cotar.read(a, in: table) == Array("one\n".utf8))
  }

  @Test("a table of another build of the tar is refused with staleNameTable, naming both offset/size pairs")
  func staleTable() async throws {
    let (_, oldTable) = try await Self.built(Self.tar(a: "one\n", b: "two two\n", aFirst: true))
    let (cotar, _) = try await Self.built(Self.tar(a: "CHANGED-A-LONGER-CONTENT\n", b: "x\n", aFirst: false))
    let entries = try await oldTable.entries(withPrefix: []).filter { $0.kind == .file }
    let error = await #expect(throws: CotarError.self) { try await cotar.located(entries, in: oldTable) }
    #expect(error?.code == .staleNameTable)
    #expect(error?.source == "d.tar")
    #expect(error?.path == "a.txt")
    #expect(error?.message.contains("the name table d.tar.names does not match the index") == true, "\(String(describing: error))")
    #expect(error?.message.contains("the table gives offset 512, size 4, the index has offset 1536, size 25") == true, "\(String(describing: error))")
    #expect(error?.message.contains("cotar index --force") == true)
    let a = try #require(try await oldTable.stat(pathBytes: Array("a.txt".utf8)))
    let readError = await #expect(throws: CotarError.self) { try await cotar.read(a, in: oldTable) }
    #expect(readError?.code == .staleNameTable)
    // A path the index lacks is stale too.
    let gone = NameEntry(pathBytes: Array("gone.txt".utf8), kind: .file, size: 3, dataOffset: 512)
    let goneError = await #expect(throws: CotarError.self) { try await cotar.located([gone], in: oldTable) }
    #expect(goneError?.code == .staleNameTable)
    #expect(goneError?.message.contains("the index has no entry for it") == true)
  }

  @Test("a table scanned from the tar is not looked up in the index")
  func scannedTable() async throws {
    let (cotar, _) = try await Self.built(Self.tar(a: "CHANGED-A-LONGER-CONTENT\n", b: "x\n", aFirst: false))
    let scanned = try await NameTable.scanning(tar: MemorySource(Self.tar(a: "one\n", b: "two two\n", aFirst: true)))
    let entries = try await scanned.entries(withPrefix: []).filter { $0.kind == .file }
    // A scan describes its own tar: nothing to check (here deliberately another tar).
    #expect(try await cotar.located(entries, in: scanned).count == 2)
  }
}
