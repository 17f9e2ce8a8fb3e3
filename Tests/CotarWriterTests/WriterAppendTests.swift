import CotarCore
import CotarWriter
import Foundation
import Testing

@Suite("Writer: append")
struct WriterAppendTests {
  struct InjectedCrash: Error {}

  /// A base archive of `tree` in `dir` ("old.tar.co", or "old.tar" + sidecar).
  func makeBase(_ dir: WriterTempDir, combined: Bool) async throws -> String {
    try writerMakeTree(in: dir, root: "tree")
    let name = combined ? "old.tar.co" : "old.tar"
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    _ = try await ReproducibleTar.write(
      try TarPlan.plan(inputs, digest: writerContentDigest), to: dir.at(name),
      options: .init(combined: combined, sidecar: !combined))
    return dir.at(name)
  }

  func newFiles(_ dir: WriterTempDir) throws -> TarPlan.Result {
    try dir.write("add/a.txt", "replaced\n")
    try dir.write("add/new/one.txt", "one\n")
    try dir.write("add/new/same-as-one.txt", "one\n")
    let inputs = try TarInputCollector(options: .init(base: dir.at("add"))).collect(["."]).inputs
    return try TarPlan.plan(inputs, digest: writerContentDigest)
  }

  func open(_ path: String) async throws -> Cotar {
    let source = try FileSource(path: path)
    if path.hasSuffix(".co") { return try await Cotar.open(source) }
    return try await Cotar.open(tar: source, index: try FileSource(path: path + ".index"))
  }

  func expectValid(_ path: String) async throws {
    let cotar = try await open(path)
    let report = try await CotarValidator.validate(tar: try FileSource(path: path), index: cotar.index)
    #expect(report.isValid, "\(report.problems)")
  }

  @Test(arguments: [true, false])
  func appendThenValidate(combined: Bool) async throws {
    let dir = try WriterTempDir()
    let path = try await makeBase(dir, combined: combined)
    let summary = try await ArchiveAppender.append(try newFiles(dir), to: path)
    #expect(summary.layout == (combined ? .combined : .tarWithSidecar))
    #expect(summary.appended == 3)
    #expect(summary.superseded == 1)
    #expect(summary.scanStart > 0)
    try await expectValid(path)
    let cotar = try await open(path)
    #expect(try await cotar.read("a.txt") == Array("replaced\n".utf8))
    #expect(try await cotar.read("new/same-as-one.txt") == Array("one\n".utf8))
    #expect(try await cotar.read("sub/copy-of-a.txt") == Array("hello\n".utf8))
    // The reused index equals one built from scratch over the new tar.
    let rebuilt = try await CotarIndexBuilder.build(tar: PrefixSource(try FileSource(path: path), length: summary.newSize))
    let written = try dir.read(combined ? "old.tar.co" : "old.tar.index")
    #expect(Array(written.suffix(rebuilt.index.bytes.count)) == rebuilt.index.bytes)
    // Other tools see the superseding member last.
    let listing = try await writerRun(["tar", "-tf", path]).stdout.split(separator: "\n")
    #expect(listing.suffix(3) == ["a.txt", "new/one.txt", "new/same-as-one.txt"])
  }

  /// `cotar tar` of a file `f`, then `f` made a symlink to `t` and appended: the old record
  /// of `f` goes (last wins, SPEC §6 and §9.2), whatever kind the superseding member is.
  @Test("appending a symlink over an indexed file drops the file's record", arguments: [true, false])
  func appendedSymlinkSupersedesFile(combined: Bool) async throws {
    let dir = try WriterTempDir()
    try dir.write("tree/f", "original\n")
    try dir.write("tree/t", "target\n")
    let name = combined ? "x.tar.co" : "x.tar"
    let collector = TarInputCollector(options: .init(base: dir.at("tree")))
    _ = try await ReproducibleTar.write(
      try TarPlan.plan(try collector.collect(["f"]).inputs, digest: writerContentDigest), to: dir.at(name),
      options: .init(combined: combined, sidecar: !combined))
    #expect(try await open(dir.at(name)).read("f") == Array("original\n".utf8))
    try FileManager.default.removeItem(atPath: dir.at("tree/f"))
    try FileManager.default.createSymbolicLink(atPath: dir.at("tree/f"), withDestinationPath: "t")
    let summary = try await ArchiveAppender.append(
      try TarPlan.plan(try collector.collect(["f", "t"]).inputs, digest: writerContentDigest), to: dir.at(name))
    #expect(summary.superseded == 1)
    try await expectValid(dir.at(name))
    let cotar = try await open(dir.at(name))
    #expect(try await cotar.index.lookup("f") == nil)
    #expect(try await cotar.read("t") == Array("target\n".utf8))
    // The reused index equals one built from scratch over the new tar.
    let rebuilt = try await CotarIndexBuilder.build(tar: PrefixSource(try FileSource(path: dir.at(name)), length: summary.newSize))
    let written = try dir.read(combined ? name : name + ".index")
    #expect(Array(written.suffix(rebuilt.index.bytes.count)) == rebuilt.index.bytes)
  }

  @Test func plainTarWithoutIndexIsScannedWhole() async throws {
    let dir = try WriterTempDir()
    let path = try await makeBase(dir, combined: false)
    try FileManager.default.removeItem(atPath: path + ".index")
    let summary = try await ArchiveAppender.append(try newFiles(dir), to: path)
    #expect(summary.layout == .tar)
    #expect(summary.scanStart == 0)
    #expect(access(path + ".index", F_OK) != 0)
    let again = try await ArchiveAppender.append(try newFiles(dir), to: path, options: .init(createSidecar: true))
    #expect(again.superseded == 4)  // a.txt of the first append, then all three again
    try await expectValid(path)
  }

  @Test(arguments: [true, false])
  func injectedFailureAtEachStepLeavesTheOldArchive(combined: Bool) async throws {
    for step in ArchiveAppender.Step.allCases where !(combined && step == .sidecarRenamed) {
      let dir = try WriterTempDir()
      let path = try await makeBase(dir, combined: combined)
      let before = try dir.read(combined ? "old.tar.co" : "old.tar")
      let options = ArchiveAppender.Options(failpoint: { if $0 == step { throw InjectedCrash() } })
      await #expect(throws: InjectedCrash.self) { _ = try await ArchiveAppender.append(try newFiles(dir), to: path, options: options) }
      let after = try dir.read(combined ? "old.tar.co" : "old.tar")
      if step == .renamed || step == .sidecarRenamed {
        #expect(after != before, "\(step)")
      } else {
        #expect(after == before, "\(step)")
      }
      if combined || step != .renamed { try await expectValid(path) }
      // Old paths always resolve to the right bytes, whichever archive is there.
      #expect(try await open(path).read("big.bin")?.count == 5000)
    }
  }

  /// A GNU tar cut right after its last member's data (no padding, no end marker): `tar`
  /// and Python's `tarfile` refuse to append to it, `cotar index` indexes it, and append now
  /// writes the missing padding first. A cut inside the data is still refused.
  @Test(arguments: [true, false])
  func tarEndingRightAfterItsLastDataIsPaddedFirst(sidecar: Bool) async throws {
    let dir = try WriterTempDir()
    try dir.write("old/first.txt", String(repeating: "1", count: 700))
    try dir.write("old/last.txt", "last, unpadded\n")
    #expect(try await writerRun(["tar", "--format=gnu", "-C", dir.at("old"), "-cf", dir.at("cut.tar"), "first.txt", "last.txt"]).status == 0)
    let dataEnd = 512 + 1024 + 512 + 15
    let bytes = try dir.read("cut.tar")
    try dir.write("cut.tar", Array(bytes.prefix(dataEnd)))
    #expect(try await writerRun(["tar", "-tf", dir.at("cut.tar")]).status != 0)
    if sidecar {
      let index = try await CotarIndexBuilder.build(tar: try FileSource(path: dir.at("cut.tar"))).index
      try dir.write("cut.tar.index", index.bytes)
    }

    let summary = try await ArchiveAppender.append(try newFiles(dir), to: dir.at("cut.tar"), options: .init(createSidecar: true))
    #expect(summary.oldEnd == 2560)
    let appended = try dir.read("cut.tar")
    #expect(Array(appended.prefix(dataEnd)) == Array(bytes.prefix(dataEnd)))
    #expect(appended[dataEnd..<2560].allSatisfy { $0 == 0 })
    let listing = try await writerRun(["tar", "-tf", dir.at("cut.tar")])
    #expect(listing.status == 0, "\(listing.stderr)")
    #expect(listing.stdout.split(separator: "\n") == ["first.txt", "last.txt", "a.txt", "new/one.txt", "new/same-as-one.txt"])
    try await expectValid(dir.at("cut.tar"))
    let cotar = try await open(dir.at("cut.tar"))
    #expect(try await cotar.read("last.txt") == Array("last, unpadded\n".utf8))
    #expect(try await cotar.read("new/one.txt") == Array("one\n".utf8))

    // Cut inside the last member's data: refused, naming the member, and nothing changes.
    try dir.write("cut-data.tar", Array(bytes.prefix(dataEnd - 5)))
    if sidecar { try FileManager.default.removeItem(atPath: dir.at("cut.tar.index")) }
    let error = await #expect(throws: CotarError.self) {
      _ = try await ArchiveAppender.append(try newFiles(dir), to: dir.at("cut-data.tar"))
    }
    #expect(error?.code == .truncated, "\(String(describing: error))")
    #expect("\(String(describing: error))".contains("last.txt"), "\(String(describing: error))")
    #expect(try dir.read("cut-data.tar") == Array(bytes.prefix(dataEnd - 5)))
  }

  @Test func concurrentAppendIsRefused() async throws {
    let dir = try WriterTempDir()
    let path = try await makeBase(dir, combined: true)
    let fd = try Syscall.open(path, O_RDONLY)
    defer { Syscall.close(fd) }
    #expect(flock(fd, LOCK_EX) == 0)
    await #expect(throws: CotarError.self) { _ = try await ArchiveAppender.append(try newFiles(dir), to: path) }
  }

  /// Removes the member `big.bin` (5000 bytes, no link to it) from the tar at `path` as
  /// `tar --delete` does: the later bytes move up and the end is zero-filled, so the file
  /// keeps its size.
  func deleteMember(_ path: String) async throws {
    var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
    var found: TarEntry?
    _ = try await TarScanner(source: MemorySource(bytes)).scan { if $0.path == "big.bin" { found = $0 } }
    let member = try #require(found)
    let range = Int(member.headerOffset)..<Int((member.dataOffset + member.size + 511) & ~511)
    bytes.removeSubrange(range)
    bytes += [UInt8](repeating: 0, count: range.count)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  @Test("a tar changed after indexing (a member deleted): the sidecar is rebuilt, a .tar.co refused with staleIndex")
  func appendAfterDeletion() async throws {
    let dir = try WriterTempDir()
    let path = try await makeBase(dir, combined: false)
    try await deleteMember(path)
    let summary = try await ArchiveAppender.append(try newFiles(dir), to: path)
    #expect(summary.rebuiltBecause?.contains("does not describe this tar") == true, "\(summary)")
    #expect(summary.reusedRecords == 0 && summary.scanStart == 0)
    try await expectValid(path)
    var listed: [String] = []
    let scan = try await TarScanner(source: FileSource(path: path)).scan { listed.append($0.path) }
    #expect(summary.oldEnd < scan.endOffset && listed.contains("new/one.txt"), "the new members follow the real end")

    let other = try WriterTempDir()
    let combined = try await makeBase(other, combined: true)
    let index = try await CotarIndex.trailing(in: FileSource(path: combined))
    var bytes = try other.read("old.tar.co")
    var tar = Array(bytes[..<Int(index.baseOffset)])
    let tarPath = other.at("tar-part.tar")
    try Data(tar).write(to: URL(fileURLWithPath: tarPath))
    try await deleteMember(tarPath)
    tar = try other.read("tar-part.tar")
    bytes.replaceSubrange(0..<tar.count, with: tar)
    try Data(bytes).write(to: URL(fileURLWithPath: combined))
    let error = await #expect(throws: CotarError.self) { _ = try await ArchiveAppender.append(try newFiles(other), to: combined) }
    #expect(error?.code == .staleIndex)
    #expect(try other.read("old.tar.co") == bytes)  // untouched
  }

  @Test("createSidecar on a plain tar writes the name table too, as cotar index does")
  func createSidecarWritesNames() async throws {
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "tree")
    let inputs = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."]).inputs
    _ = try await ReproducibleTar.write(try TarPlan.plan(inputs, digest: writerContentDigest), to: dir.at("plain.tar"), options: .init())
    #expect(!FileManager.default.fileExists(atPath: dir.at("plain.tar.names")))
    let summary = try await ArchiveAppender.append(try newFiles(dir), to: dir.at("plain.tar"), options: .init(createSidecar: true))
    #expect(summary.createdSidecar)
    let names = try dir.read("plain.tar.names")
    let table = try #require(try await NameTable.open(in: MemorySource(names), endingAt: UInt64(names.count)))
    #expect(try await table.stat("new/one.txt") != nil)
    #expect(summary.namePaths == table.count)
    try await expectValid(dir.at("plain.tar"))
  }

  @Test func staleIndexIsDetected() async throws {
    let dir = try WriterTempDir()
    let path = try await makeBase(dir, combined: false)
    // Replace the sidecar with the index of a shorter archive: members after its data are unknown.
    try dir.write("short/x.txt", "x")
    let inputs = try TarInputCollector(options: .init(base: dir.at("short"))).collect(["."]).inputs
    _ = try await ReproducibleTar.write(try TarPlan.plan(inputs), to: dir.at("short.tar"), options: .init(sidecar: true))
    try FileManager.default.removeItem(atPath: path + ".index")
    try FileManager.default.copyItem(atPath: dir.at("short.tar.index"), toPath: path + ".index")
    // The tar is the truth: the stale sidecar is rebuilt from a full scan (SPEC §9.2.2).
    let summary = try await ArchiveAppender.append(try newFiles(dir), to: path)
    #expect(summary.rebuiltBecause != nil)
    try await expectValid(path)
  }
}
