import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// A later member of any kind replaces the earlier members of its path (SPEC §6): a file
/// followed by a symlink, directory, device or FIFO of the same path bytes is not indexed.
@Suite("Shadowed paths")
struct ShadowedPathTests {
  /// Writes a GNU-format tar with Python tarfile. Each member is `KIND:NAME[:VALUE]`: `f` a
  /// file with VALUE as data, `s` a symlink and `l` a hard link to VALUE, `d` a directory
  /// stored under NAME exactly (no `/` added), `c` a character device, `p` a FIFO.
  static let maker = #"""
    import io, sys, tarfile
    class Exact(tarfile.TarInfo):
        def get_info(self):
            info = super().get_info()
            info["name"] = self.name
            return info
    with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
        for a in sys.argv[2:]:
            k, n, v = (a.split(":", 2) + [""])[:3]
            ti = Exact(n)
            ti.mtime = 1
            ti.type = {"f": tarfile.REGTYPE, "l": tarfile.LNKTYPE, "s": tarfile.SYMTYPE, "d": tarfile.DIRTYPE,
                       "c": tarfile.CHRTYPE, "p": tarfile.FIFOTYPE}[k]
            if k == "f":
                ti.size = len(v)
                t.addfile(ti, io.BytesIO(v.encode()))
            else:
                ti.linkname = v
                t.addfile(ti)
    """#

  /// A tar layout and what reading its paths through the index must give (`nil`: not indexed).
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var members: [String]
    var expected: [(String, String?)]
    /// Earlier records the build drops (superseded by a later member of any kind).
    var dropped: Int
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "file then symlink", members: ["f:x:stale", "f:t:new", "s:x:t"],
      expected: [("x", nil), ("t", "new")], dropped: 1),
    Case(
      name: "file then directory of the same path bytes", members: ["f:x:stale", "d:x", "f:t:new"],
      expected: [("x", nil), ("t", "new")], dropped: 1),
    Case(
      name: "file then device, file then FIFO", members: ["f:x:stale", "f:y:stale", "c:x", "p:y", "f:t:new"],
      expected: [("x", nil), ("y", nil), ("t", "new")], dropped: 2),
    Case(
      name: "file, symlink, file again: the last file wins (and y stays shadowed)",
      members: ["f:x:first", "f:y:stale", "s:x:t", "s:y:t", "f:x:last", "f:t:new"],
      expected: [("x", "last"), ("y", nil), ("t", "new")], dropped: 2),
    Case(
      name: "a hard link to a symlink replaces a file", members: ["f:y:stale", "f:t:new", "s:x:t", "l:y:x"],
      expected: [("y", nil), ("x", nil), ("t", "new")], dropped: 1),
    Case(
      name: "a hard link to a path replaced by a symlink is not resolved to the old file",
      members: ["f:x:stale", "f:t:new", "s:x:t", "l:h:x", "l:g:t"],
      expected: [("x", nil), ("h", nil), ("g", "new"), ("t", "new")], dropped: 1),
  ]

  /// Path prefixes: none (short names, parsed in place) and one that makes every name longer
  /// than 100 bytes (GNU long-name members, parsed by the general step).
  static let prefixes = ["", String(repeating: "long-directory-name/", count: 6)]

  static func shell(_ script: String, in directory: URL) async throws {
    let result = try await ProcessRunner.runDetached("/bin/sh", ["-c", script], in: directory.path)
    guard result.status == 0 else { throw CotarError(.io, "\(script): \(result.stderr)") }
  }

  /// The tar of `members` (names under `prefix`) written by Python tarfile in `directory`.
  static func pythonTar(_ members: [String], prefix: String, in directory: URL) async throws -> String {
    try maker.write(to: directory.appendingPathComponent("mk.py"), atomically: true, encoding: .utf8)
    let arguments = members.map { member -> String in
      let parts = member.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
      var value = parts.count > 2 ? parts[2] : ""
      if parts[0] == "s" || parts[0] == "l" { value = prefix + value }
      return "'\(parts[0]):\(prefix)\(parts[1]):\(value)'"
    }
    try await shell("python3 mk.py a.tar " + arguments.joined(separator: " "), in: directory)
    return directory.appendingPathComponent("a.tar").path
  }

  /// The index linz/cotar's builder (and Cotar before this rule) makes: non-indexed members
  /// ignored, so a hard link to a symlink (whose target this builder does not know) is too.
  static func indexIgnoringOtherKinds(_ tar: any RangeSource) async throws -> [UInt8] {
    var builder = try CotarIndexBuilder(options: .init(packing: 25))
    _ = try await TarScanner(source: tar).scan { entry in
      guard entry.kind.isIndexed else { return }
      do {
        try builder.add(entry)
      } catch let error as CotarError where entry.kind == .hardLink && error.code == .invalidTar {}
    }
    let scanner = TarScanner(source: tar)
    return try await builder.build { try await scanner.entry(atHeaderOffset: $0).pathBytes }.bytes
  }

  static func expectReads(_ cotar: Cotar, _ expected: [(String, String?)], prefix: String) async throws {
    for (path, text) in expected {
      if let text {
        #expect(try await cotar.read(prefix + path) == Array(text.utf8), "\(path)")
      } else {
        #expect(try await cotar.index.lookup(prefix + path) == nil, "\(path) is shadowed and must not be indexed")
      }
    }
  }

  @Test("the builder drops a path's record when a later member of another kind replaces it (Python tarfile)",
    arguments: cases, prefixes)
  func builderLastWins(_ shadowCase: Case, prefix: String) async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let directory = try ScratchSpace.directory("cotar-shadowed")
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try FileSource(path: try await Self.pythonTar(shadowCase.members, prefix: prefix, in: directory))
    let built = try await CotarIndexBuilder.build(tar: tar, names: .init())
    #expect(built.index.stats.files == shadowCase.expected.filter { $0.1 != nil }.count)
    #expect(built.index.stats.duplicatesDropped == shadowCase.dropped)
    let cotar = try await Cotar.open(tar: tar, index: MemorySource(built.index.bytes))
    try await Self.expectReads(cotar, shadowCase.expected, prefix: prefix)
    let report = try await CotarValidator.validate(tar: tar, index: cotar.index)
    #expect(report.isValid, "\(report.problems)")
  }

  @Test("the validator refuses an index that still holds a replaced path's file", arguments: cases)
  func validatorRefusesStaleRecord(_ shadowCase: Case) async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let directory = try ScratchSpace.directory("cotar-shadowed")
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try FileSource(path: try await Self.pythonTar(shadowCase.members, prefix: "", in: directory))
    let stale = try await CotarIndex.open(sidecar: MemorySource(try await Self.indexIgnoringOtherKinds(tar)))
    let report = try await CotarValidator.validate(tar: tar, index: stale)
    #expect(!report.isValid)
    #expect(report.indexedPaths == shadowCase.expected.filter { $0.1 != nil }.count)
    #expect(report.problems.contains { $0.contains("filled slots") }, "\(report.problems)")
  }

  /// GNU tar: `x` archived as a file, then replaced by a symlink and appended with `tar -r`.
  static let gnuScript = """
    mkdir src && cd src && printf stale > x && printf new > t && tar -cf ../a.tar x t && rm x && ln -s t x \
    && tar -rf ../a.tar x && cd .. && gzip -k a.tar
    """

  @Test("GNU tar -r of a symlink over an archived file: plain and gzip indexes drop the file")
  func gnuTarAppendedSymlink() async throws {
    try #require(ProcessRunner.isAvailable("tar"))
    let directory = try ScratchSpace.directory("cotar-shadowed")
    defer { try? FileManager.default.removeItem(at: directory) }
    try await Self.shell(Self.gnuScript, in: directory)
    let tar = try FileSource(path: directory.appendingPathComponent("a.tar").path)
    let built = try await CotarIndexBuilder.build(tar: tar)
    #expect(built.index.stats.files == 1)
    let cotar = try await Cotar.open(tar: tar, index: MemorySource(built.index.bytes))
    try await Self.expectReads(cotar, [("x", nil), ("t", "new")], prefix: "")
    #expect(try await CotarValidator.validate(tar: tar, index: cotar.index).isValid)
    let stale = try await CotarIndex.open(sidecar: MemorySource(try await Self.indexIgnoringOtherKinds(tar)))
    #expect(!(try await CotarValidator.validate(tar: tar, index: stale).isValid))

    let gzip = try FileSource(path: directory.appendingPathComponent("a.tar.gz").path)
    let gzipBuilt = try await GzipIndexBuilder.build(archive: gzip)
    #expect(gzipBuilt.tar.index.bytes == built.index.bytes)
    let gzipCotar = try await Cotar.open(gzip: gzip, index: MemorySource(gzipBuilt.bytes))
    try await Self.expectReads(gzipCotar, [("x", nil), ("t", "new")], prefix: "")
  }

  @Test("members fed one by one: a symlink, directory, device, FIFO or other kind after a file drops it",
    arguments: [TarEntry.Kind.symbolicLink, .directory, .device, .fifo, .sparse, .other(UInt8(ascii: "V"))])
  func builderDirect(kind: TarEntry.Kind) async throws {
    var builder = try CotarIndexBuilder()
    let paths = [0: "x", 1024: "t", 2048: "x"]
    try builder.add(TarEntry(pathBytes: Array("x".utf8), kind: .file, headerOffset: 0, dataOffset: 512, size: 5))
    try builder.add(TarEntry(pathBytes: Array("t".utf8), kind: .file, headerOffset: 1024, dataOffset: 1536, size: 3))
    try builder.add(TarEntry(pathBytes: Array("x".utf8), kind: kind, headerOffset: 2048, dataOffset: 2560, size: 0))
    let built = try await builder.build { Array((paths[Int($0)] ?? "").utf8) }
    #expect(built.stats.files == 1)
    #expect(built.stats.duplicatesDropped == 1)
    let index = try await CotarIndex.open(sidecar: MemorySource(built.bytes))
    #expect(try await index.lookup("x") == nil)
    #expect(try await index.lookup("t") == CotarEntry(offset: 1536, size: 3))
  }

  @Test("a hard link to a path whose latest member is a directory or device is an error, before and after the first hard link",
    arguments: [TarEntry.Kind.directory, .device, .fifo], [false, true])
  func hardLinkToReplacedTarget(kind: TarEntry.Kind, afterAnotherHardLink: Bool) throws {
    var builder = try CotarIndexBuilder()
    try builder.add(TarEntry(pathBytes: Array("x".utf8), kind: .file, headerOffset: 0, dataOffset: 512, size: 5))
    if afterAnotherHardLink {
      // The first hard link creates the builder's latest-record table; later members update it.
      try builder.add(TarEntry(pathBytes: Array("y".utf8), kind: .hardLink, headerOffset: 1024, dataOffset: 1536, size: 0, linkTargetBytes: Array("x".utf8)))
    }
    try builder.add(TarEntry(pathBytes: Array("x".utf8), kind: kind, headerOffset: 2048, dataOffset: 2560, size: 0))
    let link = TarEntry(pathBytes: Array("h".utf8), kind: .hardLink, headerOffset: 4096, dataOffset: 4608, size: 0, linkTargetBytes: Array("x".utf8))
    let error = #expect(throws: CotarError.self) { try builder.add(link) }
    #expect(error?.code == .invalidTar)
    #expect(error?.path == "h")
  }

  @Test("thousands of members, random kinds over shared paths: the index holds exactly each path's last file")
  func randomLastWins() async throws {
    var random = SplitMix64(seed: 7)
    var tar = TestTar()
    var latest: [String: String?] = [:]  // path -> data of its last member when that is a file
    for number in 0..<6000 {
      let path = "p\(random.next() % 2500)"
      switch random.next() % 10 {
      case 0:
        tar.add(Array(path.utf8), typeflag: UInt8(ascii: "2"), link: Array("elsewhere".utf8))
        latest[path] = .some(nil)
      case 1:
        tar.add(Array(path.utf8), typeflag: UInt8(ascii: "5"))
        latest[path] = .some(nil)
      case 2:
        tar.add(Array((path + "/").utf8), typeflag: UInt8(ascii: "5"))  // another path: "pN/"
        latest[path + "/"] = .some(nil)
      default:
        tar.add(path, "data \(number)")
        latest[path] = "data \(number)"
      }
    }
    let archive = tar.finished
    let built = try await CotarIndexBuilder.build(tar: MemorySource(archive))
    #expect(built.index.stats.files == latest.values.filter { $0 != nil }.count)
    let cotar = try await Cotar.open(tar: MemorySource(archive), index: MemorySource(built.index.bytes))
    for (path, data) in latest {
      if let data {
        #expect(try await cotar.read(path) == Array(data.utf8), "\(path)")
      } else {
        #expect(try await cotar.index.lookup(path) == nil, "\(path)")
      }
    }
    #expect(try await CotarValidator.validate(tar: MemorySource(archive), index: cotar.index).isValid)
  }
}
