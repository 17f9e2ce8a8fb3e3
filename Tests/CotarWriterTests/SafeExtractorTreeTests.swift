import CotarCore
import CotarWriter
import CotarTestSupport
import Foundation
import Testing

/// `SafeExtractor`'s directories, symbolic and hard links (what `cotar extract` relies on).
@Suite("SafeExtractor: directories and links")
struct SafeExtractorTreeTests {
  private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

  @Test(
    "a link is kept only when it cannot lead outside",
    arguments: [
      ("a/link", "target", true), ("a/link", "../b/c", true), ("a/b/link", "../../x", true), ("./a/link", "./../x", true),
      ("link", "../x", false), ("a/link", "../../x", false), ("a/link", "/etc/passwd", false), ("a/link", "x/../y", false),
      ("a/b/link", "x/../../y", false), ("a/link", "", false),
    ])
  func containment(path: String, target: String, kept: Bool) throws {
    #expect(try SafeExtractor.linkStaysInside(bytes(path), target: bytes(target)) == kept)
  }

  /// 1,000 nested directory members, each with a mode, as a hostile archive may hold: each
  /// is found from its parent (a lookup or two), not by a walk from the root with a lookup
  /// per level (half a million lookups here; minutes at 3,000 levels).
  @Test("a 1,000-level chain of directory members is made without a walk from the root per member")
  func deepChain() async throws {
    let root = URL(fileURLWithPath: ScratchSpace.path("safe-deep"))
    defer { try? FileManager.default.removeItem(at: root) }
    let extractor = try SafeExtractor(directory: root.path, overwrite: false)
    var path: [UInt8] = []
    for _ in 0..<1_000 {
      path += bytes("d/")
      try extractor.makeDirectory(path, attributes: .init(mode: 0o755, modificationTime: 1_000_000))
    }
    try extractor.write(bytes("deep\n"), to: path + bytes("f"))
    try extractor.finish()
    // Creation, the file, and the modes set deepest first at finish: a few lookups each (at
    // finish a level the cache no longer holds is found again from the root, every 16 levels).
    #expect(extractor.directoryCacheLookups < 20 * 1_000, "\(extractor.directoryCacheLookups) lookups")
    #expect(extractor.directoriesMade.count == 1_000)
    // The file is there, 1,000 levels down (opened a level at a time: the path is 2,001 bytes,
    // and deeper chains exceed PATH_MAX).
    var directory = open(root.path, O_RDONLY | O_DIRECTORY)
    for _ in 0..<1_000 {
      let next = openat(directory, "d", O_RDONLY | O_DIRECTORY)
      close(directory)
      directory = next
    }
    let file = openat(directory, "f", O_RDONLY)
    var buffer = [UInt8](repeating: 0, count: 16)
    let count = read(file, &buffer, 16)
    close(file)
    close(directory)
    #expect(Array(buffer.prefix(max(count, 0))) == bytes("deep\n"))
  }

  @Test("directories get their modes at finish; links are made, escaping ones refused with .invalidArgument")
  func tree() throws {
    let root = URL(fileURLWithPath: ScratchSpace.path("safe-tree"))
    defer { try? FileManager.default.removeItem(at: root) }
    let extractor = try SafeExtractor(directory: root.path, overwrite: false)
    try extractor.makeDirectory(bytes("./"), attributes: .init(mode: 0o750, modificationTime: 1_000_000))
    try extractor.makeDirectory(bytes("ro/"), attributes: .init(mode: 0o555, modificationTime: 2_000_000))
    try extractor.write(bytes("data"), to: bytes("ro/file"), attributes: .init(mode: 0o4755, modificationTime: 3_000_000))
    try extractor.makeHardLink(bytes("ro/again"), to: bytes("ro/file"))
    try extractor.makeSymbolicLink(bytes("ro/alias"), target: bytes("file"), modificationTime: 4_000_000)
    #expect(throws: CotarError.self) { try extractor.makeSymbolicLink(bytes("ro/out"), target: bytes("../../x")) }
    do {
      try extractor.makeSymbolicLink(bytes("ro/abs"), target: bytes("/etc"))
    } catch let error as CotarError {
      #expect(error.code == .invalidArgument)
      #expect(error.message.contains("it is absolute"))
    }
    #expect(throws: CotarError.self) { try extractor.makeSymbolicLink(bytes("ro/alias"), target: bytes("file")) }  // exists
    try extractor.finish()
    let manager = FileManager.default
    let file = try manager.attributesOfItem(atPath: root.path + "/ro/file")
    #expect(file[.posixPermissions] as? Int == 0o755, "set-ID bits dropped")
    #expect((file[.modificationDate] as? Date)?.timeIntervalSince1970 == 3_000_000)
    let directory = try manager.attributesOfItem(atPath: root.path + "/ro")
    #expect(directory[.posixPermissions] as? Int == 0o555)
    #expect((directory[.modificationDate] as? Date)?.timeIntervalSince1970 == 2_000_000)
    #expect(try manager.attributesOfItem(atPath: root.path)[.posixPermissions] as? Int == 0o750)
    #expect(try manager.destinationOfSymbolicLink(atPath: root.path + "/ro/alias") == "file")
    let again = try manager.attributesOfItem(atPath: root.path + "/ro/again")
    #expect(again[.systemFileNumber] as? Int == file[.systemFileNumber] as? Int)
    #expect(try manager.contentsOfDirectory(atPath: root.path + "/ro").sorted() == ["again", "alias", "file"])
    try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.path + "/ro")
  }
}
