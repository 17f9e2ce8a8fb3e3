import CotarTestSupport
import Foundation
import Testing

/// Hard links whose link name spells the target's path differently from its member name
/// (`./a` for a member `a`, or the reverse): GNU tar extracts them with link(2), so every
/// command must resolve them as the same file (SPEC §6).
@Suite("cotar: hard-link targets spelled with or without ./", .timeLimit(.minutes(5)))
struct LinkSpellingCLITests {
  @Test("tar -cf a, then a tarfile hard link to ./a: index, create, get, ls, validate and extract agree with tar -x")
  func dotSlashLinkToPlainMember() async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let directory = try ExtractLinksCLITests.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let script = """
      set -e
      printf hello > a
      tar -cf t.tar a
      python3 -c "
      import tarfile
      with tarfile.open('t.tar', 'a') as t:
          for name, target in (('b', './a'), ('c', './/a'), ('d', 'b')):
              ti = tarfile.TarInfo(name); ti.type = tarfile.LNKTYPE; ti.linkname = target; ti.mtime = 1; t.addfile(ti)
      "
      """
    let made = try await CLI.shell(script, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    let indexed = try await CLI.run(["index", "t.tar"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    #expect(indexed.stderr.contains("4 entries"), "\(indexed.stderr)")
    for name in ["a", "b", "c", "d"] {
      let got = try await CLI.run(["get", "t.tar", name], in: directory)
      #expect(got.stdoutText == "hello", "\(name): \(got.stderr)")
    }
    #expect(try await CLI.run(["validate", "t.tar"], in: directory).status == 0)
    #expect(try await CLI.run(["ls", "t.tar"], in: directory).stdoutText == "a\nb\nc\nd\n")
    let (result, cotar, gnu) = try await ExtractLinksCLITests.extractBoth("t.tar", in: directory)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(cotar == gnu)
    let out = directory.appendingPathComponent("cotar")
    let inode = { (name: String) in
      try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent(name).path)[.systemFileNumber] as? Int
    }
    #expect(try inode("a") == inode("b") && inode("a") == inode("c") && inode("a") == inode("d"), "one file, four links")
    #expect(try await CLI.run(["get", "t.tar.co", "c"], in: directory).stdoutText == "hello")
    #expect(try await CLI.run(["validate", "t.tar.co"], in: directory).status == 0)
  }

  @Test("a member ./x with hard links named x, and a hard link to a symlink named ./s, resolve as tar -x does")
  func plainLinkToDotSlashMember() async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let directory = try ExtractLinksCLITests.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell("python3 mk.py r.tar f:./x:world l:y:x s:s:x l:z:./s", in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    let (result, cotar, gnu) = try await ExtractLinksCLITests.extractBoth("r.tar", in: directory)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(cotar == gnu)
    // The sidecar index and name table: a plain tar read without them has no table to follow links.
    let indexed = try await CLI.run(["index", "r.tar"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    // The hard link to the symlink is counted as a symlink, not indexed (SPEC §6).
    #expect(indexed.stderr.contains("2 entries") && indexed.stderr.contains("2 symlink"), "\(indexed.stderr)")
    for archive in ["r.tar", "r.tar.co"] {
      #expect(try await CLI.run(["get", archive, "y"], in: directory).stdoutText == "world")
      let z = try await CLI.run(["get", archive, "z"], in: directory)
      #expect(z.stdoutText == "world", "\(archive): \(z.stderr)")
      #expect(try await CLI.run(["get", archive, "z", "--no-follow"], in: directory).stdoutText == "x\n")
      #expect(try await CLI.run(["validate", archive], in: directory).status == 0)
    }
  }

  @Test("a hard link whose target appears under no spelling is still refused, naming it")
  func missingTargetStillRefused() async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let directory = try ExtractLinksCLITests.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(try await CLI.shell("python3 mk.py m.tar f:a:x l:b:./sub/a", in: directory).status == 0)
    let indexed = try await CLI.run(["index", "m.tar"], in: directory)
    #expect(indexed.status != 0)
    #expect(indexed.stderr.contains("hard link to './sub/a'"), "\(indexed.stderr)")
  }
}
