import CotarTestSupport
import Foundation
import Testing

/// Sparse members (GNU tar `-S` in PAX formats 0.0, 0.1 and 1.0 and old GNU `S`, bsdtar's
/// default) are listed under their real name and size, as `tar -tv` lists them, not under
/// the `GNUSparseFile.N/` placeholder or the stored size (SPEC §6, §12.4); they stay not
/// indexed and not extracted.
@Suite("Sparse members: real name and size", .timeLimit(.minutes(5)))
struct SparseMemberCLITests {
  /// The writers of a sparse member.
  static let writers: [(name: String, command: String)] = [
    ("GNU tar PAX 0.0", "tar --format=posix --sparse-version=0.0 -S -cf s.tar sparse other.txt"),
    ("GNU tar PAX 0.1", "tar --format=posix --sparse-version=0.1 -S -cf s.tar sparse other.txt"),
    ("GNU tar PAX 1.0", "tar --format=posix --sparse-version=1.0 -S -cf s.tar sparse other.txt"),
    ("GNU tar old GNU S", "tar --format=gnu -S -cf s.tar sparse other.txt"),
    ("bsdtar", "bsdtar -cf s.tar sparse other.txt"),
  ]

  /// The writers whose tool is installed (`.ci/run` installs bsdtar).
  static let availableWriters = writers.filter { $0.name != "bsdtar" || ProcessRunner.isAvailable("bsdtar") }.map(\.name)

  @Test("ls, stat and extract show a sparse member's real name and size", arguments: availableWriters)
  func realNameAndSize(writer: String) async throws {
    let command = try #require(Self.writers.first { $0.name == writer }?.command)
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // 1 MiB of hole, a block of data, another 1 MiB hole and a last byte: 2,101,249 bytes.
    let made = try await CLI.shell(
      "truncate -s 1M sparse && head -c 4096 /dev/urandom >> sparse && truncate -s 2101248 sparse && printf x >> sparse && printf hi > other.txt && \(command) && tar -tvf s.tar",
      in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let realSize = "2101249"
    // What tar -tv says (the reference), then what cotar says.
    let reference = try #require(made.stdoutText.split(separator: "\n").first { $0.hasSuffix(" sparse") })
    #expect(reference.split(separator: " ", omittingEmptySubsequences: true).contains(Substring(realSize)), "\(reference)")
    let tar = directory.appendingPathComponent("s.tar").path

    let listed = try await CLI.run(["ls", "--long", "--recursive", tar])
    #expect(listed.status == 0, "\(listed.stderr)")
    let line = try #require(listed.stdoutText.split(separator: "\n").first { $0.hasSuffix("\tsparse") }, "\(listed.stdoutText)")
    #expect(line.split(separator: "\t")[1] == Substring(realSize), "\(line)")
    #expect(!listed.stdoutText.contains("GNUSparseFile"), "\(listed.stdoutText)")
    let ordered = try await CLI.run(["ls", "--long", "--tar-order", tar])
    #expect(ordered.stdoutText.contains("sparse\t") && ordered.stdoutText.contains("\t\(realSize)\tsparse\n"), "\(ordered.stdoutText)")

    // The name table of an index stores the real size for the 'other' record (SPEC §12.4).
    let indexed = try await CLI.run(["index", tar])
    #expect(indexed.status == 0, "\(indexed.stderr)")
    let stat = try await CLI.run(["stat", tar, "sparse"])
    #expect(stat.status == 0, "\(stat.stderr)")
    #expect(stat.stdoutText.contains("path: sparse\n") && stat.stdoutText.contains("size: \(realSize)\n"), "\(stat.stdoutText)")
    let validated = try await CLI.run(["validate", tar])
    #expect(validated.status == 0, "\(validated.stderr)")

    // Still not extracted: skipped with a message naming the real path.
    let out = directory.appendingPathComponent("out")
    let extracted = try await CLI.run(["extract", tar, "-o", out.path])
    #expect(extracted.stderr.contains("entry 'sparse': skipping"), "\(extracted.stderr)")
    #expect(try String(contentsOf: out.appendingPathComponent("other.txt"), encoding: .utf8) == "hi")
    #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("sparse").path))
  }
}
