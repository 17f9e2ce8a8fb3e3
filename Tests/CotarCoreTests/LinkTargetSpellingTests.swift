import CotarCore
import Foundation
import Testing

/// Hard-link targets looked up under the spellings GNU tar's link(2) treats as one file
/// (SPEC §6 "link names").
@Suite("Hard-link target spellings")
struct LinkTargetSpellingTests {
  @Test("spellings: as stored, then without . and empty components, then with ./")
  func spellings() {
    let cases: [(String, [String])] = [
      ("a", ["a", "./a"]), ("./a", ["./a", "a"]), (".//a", [".//a", "a", "./a"]),
      ("x/./y//z", ["x/./y//z", "x/y/z", "./x/y/z"]), ("/a", ["/a", "a", "./a"]),
      ("../a", ["../a", "./../a"]), (".", ["."]), ("./", ["./"]),
    ]
    for (link, expected) in cases {
      #expect(LinkTargetSpelling.spellings(of: Array(link.utf8)).map { String(decoding: $0, as: UTF8.self) } == expected, "\(link)")
    }
  }

  /// The data offset the built index gives `path`.
  static func offset(of path: String, in members: [TarEntry]) async throws -> UInt64? {
    var builder = try CotarIndexBuilder()
    for member in members { try builder.add(member) }
    let paths = Dictionary(uniqueKeysWithValues: members.map { ($0.headerOffset, $0.pathBytes) })
    let built = try await builder.build { paths[$0] ?? [] }
    let index = try await CotarIndex.open(sidecar: MemorySource(built.bytes))
    return try await index.lookup(hash: PathHash.fnv1a64(path))?.offset
  }

  static func file(_ path: String, at header: UInt64) -> TarEntry {
    TarEntry(pathBytes: Array(path.utf8), kind: .file, headerOffset: header, dataOffset: header + 512, size: 3)
  }

  static func link(_ path: String, to target: String, at header: UInt64) -> TarEntry {
    TarEntry(pathBytes: Array(path.utf8), kind: .hardLink, headerOffset: header, dataOffset: header + 512, size: 0, linkTargetBytes: Array(target.utf8))
  }

  @Test("the builder resolves ./a to a member a and a to ./a; the exact spelling wins over another")
  func builderResolvesSpellings() async throws {
    #expect(try await Self.offset(of: "b", in: [Self.file("a", at: 0), Self.link("b", to: "./a", at: 1024)]) == 512)
    #expect(try await Self.offset(of: "y", in: [Self.file("./x", at: 0), Self.link("y", to: "x", at: 1024)]) == 512)
    let both = [Self.file("a", at: 0), Self.file("./a", at: 1024)]
    #expect(try await Self.offset(of: "l", in: both + [Self.link("l", to: "./a", at: 2048)]) == 1536)
    #expect(try await Self.offset(of: "l", in: both + [Self.link("l", to: "a", at: 2048)]) == 512)
    // A symlink ./s makes a hard link named s a hard link to a symlink: not indexed.
    let symlink = TarEntry(pathBytes: Array("./s".utf8), kind: .symbolicLink, headerOffset: 1024, dataOffset: 1536, size: 0, linkTargetBytes: Array("a".utf8))
    #expect(try await Self.offset(of: "h", in: [Self.file("a", at: 0), symlink, Self.link("h", to: "s", at: 2048)]) == nil)
    var builder = try CotarIndexBuilder()
    try builder.add(Self.file("a", at: 0))
    let error = #expect(throws: CotarError.self) { try builder.add(Self.link("b", to: "./sub/a", at: 1024)) }
    #expect(error?.code == .invalidTar)
  }

  @Test("the name table gives the link the target's data, and follows a hard link to a symlink spelled ./s")
  func nameTableResolvesSpellings() async throws {
    var names = NameTableBuilder()
    names.add(Self.file("a", at: 0))
    names.add(Self.link("b", to: "./a", at: 1024))
    names.add(TarEntry(pathBytes: Array("s".utf8), kind: .symbolicLink, headerOffset: 2048, dataOffset: 2560, size: 0, linkTargetBytes: Array("a".utf8)))
    names.add(Self.link("h", to: "./s", at: 3072))
    let bytes = try names.build()
    let table = try #require(try await NameTable.open(in: MemorySource(bytes), endingAt: UInt64(bytes.count)))
    let b = try #require(try await table.stat("b"))
    #expect(b.dataOffset == 512 && b.size == 3)
    #expect(try await table.symbolicLinkText(ofHardLink: try #require(try await table.stat("h"))) == Array("a".utf8))
    #expect(try await table.resolvingSymlinks(pathBytes: Array("h".utf8))?.path == "a")
  }
}
