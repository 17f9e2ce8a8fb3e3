import Foundation
import CotarTestSupport
import Testing

/// Directory members written by `tar`, `pack` and `append` (`--dirs`) keep their stored name,
/// `d/`, in the name table and in the index's superseding (SPEC §6, §12.5).
@Suite("Writers: directory members as stored")
struct WriterDirectoryCLITests {
  @Test("tar --dirs --index and pack --dirs write the name table cotar index builds, and validate passes")
  func tarAndPackNameTables() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell("set -e; mkdir -p in/d p && echo 1 > in/d/f", in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let written = try await CLI.run(["tar", "-o", "t.tar", "--dirs", "--index", "in"], in: directory)
    #expect(written.status == 0, "\(written.stderr)")
    let validated = try await CLI.run(["validate", "t.tar"], in: directory)
    #expect(validated.status == 0, "\(validated.stdoutText)\(validated.stderr)")
    let listed = try await CLI.run(["ls", "-r", "t.tar"], in: directory)
    #expect(listed.stdoutText == "in/\nin/d/\nin/d/f\n", "\(listed.stdoutText)")
    let copied = try await CLI.shell("cp t.tar u.tar", in: directory)
    #expect(copied.status == 0)
    let indexed = try await CLI.run(["index", "u.tar"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    let names = { (name: String) in FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) }
    #expect(names("t.tar.names") != nil)
    #expect(names("t.tar.names") == names("u.tar.names"))

    let packed = try await CLI.run(["pack", "in", "--dirs", "--shard-size", "1MiB", "-o", "p/set", "--co"], in: directory)
    #expect(packed.status == 0, "\(packed.stderr)")
    let shards = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("p").path)
      .filter { $0.hasSuffix(".tar.co") }
    #expect(!shards.isEmpty)
    for shard in shards {
      let result = try await CLI.run(["validate", "p/" + shard], in: directory)
      #expect(result.status == 0, "\(shard): \(result.stdoutText)\(result.stderr)")
    }
  }

  @Test("append --dirs of a directory d keeps an earlier file d indexed, byte-identical to the reference builder")
  func appendedDirectoryKeepsTheFile() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      "set -e; mkdir old new new/d; echo file > old/d; echo in > new/d/in; tar -cf t.tar -C old d", in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    #expect(try await CLI.run(["index", "t.tar"], in: directory).status == 0)
    let appended = try await CLI.run(["append", "t.tar", "--base", "new", "d", "--dirs"], in: directory)
    #expect(appended.status == 0, "\(appended.stderr)")
    let reference = try await CLI.shell(
      "python3 '\(CLI.fixture("reference_index.py"))' t.tar -o ref.index && cmp t.tar.index ref.index", in: directory)
    #expect(reference.status == 0, "\(reference.stdoutText)\(reference.stderr)")
    let validated = try await CLI.run(["validate", "t.tar"], in: directory)
    #expect(validated.status == 0, "\(validated.stdoutText)\(validated.stderr)")
    let got = try await CLI.run(["get", "t.tar", "d"], in: directory)
    #expect(got.status == 0, "\(got.stderr)")
    #expect(got.stdoutText == "file\n")
    let listed = try await CLI.run(["ls", "-r", "t.tar"], in: directory)
    #expect(listed.stdoutText == "d\nd/\nd/in\n", "\(listed.stdoutText)")
  }
}
