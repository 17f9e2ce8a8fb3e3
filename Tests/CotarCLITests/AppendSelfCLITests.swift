import CotarTestSupport
import Foundation
import Testing

/// `cotar append` never stores the archive (or the sidecars and temporary files it writes)
/// inside itself: like `cotar tar` with its output, it refuses and leaves everything as it was
/// (README "Appending", SPEC §9.2).
@Suite("cotar append refuses the archive as one of its own inputs")
struct AppendSelfCLITests {
  /// A directory holding `out.tar` (member `a`, with `--index` sidecars when asked) and `b`.
  func makeArchive(index: Bool) async throws -> URL {
    let directory = try CLI.temporaryDirectory()
    try Data("hi\n".utf8).write(to: directory.appendingPathComponent("a"))
    let made = try await CLI.run(["tar", "out.tar", "a"] + (index ? ["--index"] : []), in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    try Data("b\n".utf8).write(to: directory.appendingPathComponent("b"))
    return directory
  }

  func contents(_ directory: URL, _ name: String) throws -> Data {
    try Data(contentsOf: directory.appendingPathComponent(name))
  }

  @Test func theArchiveNamedAsAFileToAppend() async throws {
    let directory = try await makeArchive(index: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    let before = try contents(directory, "out.tar")
    let run = try await CLI.run(["append", "out.tar", "out.tar"], in: directory)
    #expect(run.status != 0)
    #expect(run.stderr.contains("'out.tar' is the archive itself; an archive cannot contain itself"), "\(run.stderr)")
    #expect(try contents(directory, "out.tar") == before)
    // Through another spelling of the same file (device and inode, not names).
    let other = try await CLI.run(["append", directory.lastPathComponent + "/out.tar", "--base", directory.path, "./out.tar"], in: directory.deletingLastPathComponent())
    #expect(other.status != 0)
    #expect(other.stderr.contains("is the archive itself"), "\(other.stderr)")
    #expect(try contents(directory, "out.tar") == before)
  }

  @Test func theArchivesOwnDirectory() async throws {
    let directory = try await makeArchive(index: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    let before = try contents(directory, "out.tar")
    let run = try await CLI.run(["append", "out.tar", "."], in: directory)
    #expect(run.status != 0)
    #expect(run.stderr.contains("'out.tar' is the archive itself"), "\(run.stderr)")
    #expect(try contents(directory, "out.tar") == before)
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(names == ["a", "b", "out.tar"])
    // Naming the files instead works.
    let named = try await CLI.run(["append", "out.tar", "b"], in: directory)
    #expect(named.status == 0, "\(named.stderr)")
  }

  @Test func theSidecarsItRewrites() async throws {
    let directory = try await makeArchive(index: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let before = try contents(directory, "out.tar")
    for sidecar in ["out.tar.index", "out.tar.names"] {
      let run = try await CLI.run(["append", "out.tar", "b", sidecar], in: directory)
      #expect(run.status != 0)
      #expect(run.stderr.contains("'\(sidecar)' is the archive's sidecar"), "\(run.stderr)")
      #expect(try contents(directory, "out.tar") == before)
    }
  }

  @Test func aTemporaryFileOfAKilledAppend() async throws {
    let directory = try await makeArchive(index: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    let before = try contents(directory, "out.tar")
    try Data("partial".utf8).write(to: directory.appendingPathComponent(".out.tar.cotar-tmp-Ab12cd"))
    let run = try await CLI.run(["append", "out.tar", "b", ".out.tar.cotar-tmp-Ab12cd"], in: directory)
    #expect(run.status != 0)
    #expect(run.stderr.contains("'.out.tar.cotar-tmp-Ab12cd' is a temporary file of this archive"), "\(run.stderr)")
    #expect(try contents(directory, "out.tar") == before)
  }
}
