import CotarTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// FIFOs, devices and symbolic links where a regular file is expected: as the archive (read
/// side) and as the `-o` destination (write side). None may hang, and none may be replaced.
@Suite("CLI special files", .timeLimit(.minutes(3)))
struct SpecialFileCLITests {
  /// A directory with `tree/a.txt` ("alpha"), `a.tar.co` and `plain.tar` made from it and a
  /// FIFO `p.tar`.
  static func workspace() async throws -> URL {
    let directory = try CLI.temporaryDirectory()
    let tree = directory.appendingPathComponent("tree")
    try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
    try Data("alpha".utf8).write(to: tree.appendingPathComponent("a.txt"))
    let made = try await CLI.run(["tar", "a.tar.co", "--base", "tree", "a.txt"], in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let plain = try await CLI.run(["tar", "plain.tar", "--base", "tree", "a.txt"], in: directory)
    #expect(plain.status == 0, "\(plain.stderr)")
    #expect(mkfifo(directory.appendingPathComponent("p.tar").path, 0o644) == 0)
    return directory
  }

  /// Runs `cotar ARGS` under `timeout 10` in `directory` (exit 124 = it hung).
  static func runBounded(_ arguments: [String], in directory: URL) async throws -> CommandResult {
    try await CLI.launch(URL(fileURLWithPath: "/usr/bin/timeout"), ["10", CLI.executable.path] + arguments, in: directory)
  }

  @Test(
    "a FIFO given as the archive is refused at once as 'not a regular file: it is a FIFO' by every reading command; a FIFO input of tar is skipped"
  )
  func fifoArchiveIsRefused() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let commands: [[String]] = [
      ["index", "p.tar"], ["create", "p.tar"], ["ls", "p.tar"], ["get", "p.tar", "a.txt"],
      ["extract", "p.tar", "-o", "out"], ["info", "p.tar"], ["validate", "p.tar"], ["stat", "p.tar", "a.txt"],
      ["append", "p.tar", "--base", "tree", "a.txt"],
    ]
    for command in commands {
      let result = try await Self.runBounded(command, in: directory)
      #expect(result.status == 1, "\(command): exit \(result.status) \(result.stderr)")
      #expect(result.stderr.contains("not a regular file: it is a FIFO"), "\(command): \(result.stderr)")
      #expect(result.stderr.contains("p.tar"), "\(command): \(result.stderr)")
    }
    // A FIFO among the inputs of `cotar tar` is still skipped with a warning, without blocking.
    #expect(mkfifo(directory.appendingPathComponent("tree/pipe").path, 0o644) == 0)
    let made = try await Self.runBounded(["tar", "b.tar.co", "--base", "tree", "a.txt", "pipe"], in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    #expect(made.stderr.contains("pipe"), "\(made.stderr)")
    let listed = try await CLI.run(["ls", "b.tar.co"], in: directory)
    #expect(listed.stdoutText == "a.txt\n", "\(listed.stdoutText)")
  }
}
