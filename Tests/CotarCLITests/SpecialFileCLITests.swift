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
@Suite("CLI special files", .timeLimit(.minutes(5)))
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

  /// Runs `cotar ARGS` under `timeout 60` in `directory` (exit 124 = it hung; a debug build
  /// starting on a loaded machine can take seconds, a hang takes forever).
  static func runBounded(_ arguments: [String], in directory: URL) async throws -> CommandResult {
    try await CLI.launch(URL(fileURLWithPath: "/usr/bin/timeout"), ["60", CLI.executable.path] + arguments, in: directory)
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

  @Test("-o onto an existing FIFO is refused even with --force, and the FIFO stays a FIFO")
  func outputOntoFifoIsRefused() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let fifo = directory.appendingPathComponent("p.tar").path
    for command in [
      ["get", "a.tar.co", "a.txt", "-o", "p.tar", "--force"], ["get", "a.tar.co", "a.txt", "-o", "p.tar"],
      ["tar", "p.tar", "--base", "tree", "a.txt", "--force"], ["index", "plain.tar", "-o", "p.tar", "--force"],
    ] {
      let result = try await Self.runBounded(command, in: directory)
      #expect(result.status == 1, "\(command): exit \(result.status) \(result.stderr)")
      #expect(
        result.stderr.contains("p.tar: the output is a FIFO, not a regular file;"), "\(command): \(result.stderr)")
      #expect(result.stderr.contains("even with --force"), "\(command): \(result.stderr)")
      var info = stat()
      #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "\(command) replaced the FIFO")
    }
  }

  @Test("-o onto a symbolic link is refused even with --force; neither the link nor its target changes")
  func outputOntoSymbolicLinkIsRefused() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("target.txt")
    try Data("old".utf8).write(to: target)
    let link = directory.appendingPathComponent("link").path
    #expect(symlink("target.txt", link) == 0)
    let result = try await CLI.run(["get", "a.tar.co", "a.txt", "-o", "link", "--force"], in: directory)
    #expect(result.status == 1, "\(result.stderr)")
    #expect(
      result.stderr.contains("link: the output is a symbolic link (to 'target.txt'); cotar neither replaces a link nor writes through it"),
      "\(result.stderr)")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "target.txt")
    #expect(try Data(contentsOf: target) == Data("old".utf8))
    // A regular file is still replaced with --force.
    let replaced = try await CLI.run(["get", "a.tar.co", "a.txt", "-o", "target.txt", "--force"], in: directory)
    #expect(replaced.status == 0, "\(replaced.stderr)")
    #expect(try Data(contentsOf: target) == Data("alpha".utf8))
  }

  @Test(
    "-o onto an existing character device is refused even with --force (root only: mknod)",
    .enabled(if: getuid() == 0, "needs root to create a character device node with mknod"))
  func outputOntoDeviceIsRefused() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let device = directory.appendingPathComponent("null").path
    // A private copy of /dev/null (major 1, minor 3): the real one is never put at risk.
    try #require(mknod(device, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0, "mknod failed: errno \(errno)")
    let result = try await Self.runBounded(["get", "a.tar.co", "a.txt", "-o", "null", "--force"], in: directory)
    #expect(result.status == 1, "\(result.stderr)")
    #expect(
      result.stderr.contains("null: the output is a character device, not a regular file;"), "\(result.stderr)")
    #expect(result.stderr.contains("> "), "\(result.stderr)")
    var info = stat()
    #expect(lstat(device, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "the device node was replaced")
  }
}
