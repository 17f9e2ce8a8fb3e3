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

/// `extract` and `get -o DIR` never replace a device, FIFO or directory that sits in the
/// output directory at a member's path, even with `--force` (README, "Output files"): each is
/// reported with its kind, counted as failed, and the other members are still written.
@Suite("CLI extraction onto device, FIFO or directory nodes", .timeLimit(.minutes(5)))
struct ExtractOntoNodeCLITests {
  /// `p.tar` (Python tarfile) with regular files `f`, `g`, `h`, `d` of 3 bytes each, and an
  /// output directory `out` holding a FIFO `g`, a directory `d` and, when `mknod` works
  /// (root), the character device `f` (1, 3: what /dev/null is). Returns the directory and
  /// the device number of `f`, or `nil` when it could not be made.
  static func workspace() async throws -> (URL, device: dev_t?) {
    let directory = try CLI.temporaryDirectory()
    let made = try await CLI.shell(
      """
      python3 -c "
      import tarfile, io
      with tarfile.open('p.tar', 'w', format=tarfile.USTAR_FORMAT) as t:
          for n in ('f', 'g', 'h', 'd'):
              i = tarfile.TarInfo(n); i.size = 3; t.addfile(i, io.BytesIO(b'ff\\\\n'))
      " && mkdir out && mkfifo out/g && mkdir out/d
      """, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    // Skipped (nil) where mknod is not allowed (not root).
    let node = try await CLI.shell("mknod out/f c 1 3 2>/dev/null", in: directory)
    var info = stat()
    let device = node.status == 0 && lstat(directory.appendingPathComponent("out/f").path, &info) == 0 ? info.st_rdev : nil
    return (directory, device)
  }

  static func kind(_ path: String) -> mode_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
  }

  @Test(
    "get -o DIR --force and extract --force (and without --force) refuse a FIFO, character device or directory at an entry's path, naming its kind; the other entries are written, exit 1"
  )
  func nodesAreRefusedPerEntry() async throws {
    for command in [
      ["get", "p.tar", "f", "g", "h", "d", "-o", "out", "--force"], ["extract", "p.tar", "-o", "out", "--force"],
      ["extract", "p.tar", "-o", "out"],
    ] {
      let (directory, device) = try await Self.workspace()
      defer { try? FileManager.default.removeItem(at: directory) }
      let out = directory.appendingPathComponent("out").path
      let result = try await CLI.run(command, in: directory)
      #expect(result.status == 1, "\(command): exit \(result.status) \(result.stderr)")
      #expect(
        result.stderr.contains("entry 'g': the path exists in the output directory as a FIFO;"),
        "\(command): \(result.stderr)")
      #expect(
        result.stderr.contains("entry 'd': the path exists in the output directory as a directory;"),
        "\(command): \(result.stderr)")
      #expect(!result.stderr.contains("EISDIR"), "\(command): \(result.stderr)")
      #expect(Self.kind("\(out)/g") == S_IFIFO, "\(command) replaced the FIFO")
      #expect(Self.kind("\(out)/d") == S_IFDIR, "\(command) replaced the directory")
      #expect(try Data(contentsOf: URL(fileURLWithPath: "\(out)/h")) == Data("ff\n".utf8), "\(command)")
      if let device {
        #expect(
          result.stderr.contains("entry 'f': the path exists in the output directory as a character device;"),
          "\(command): \(result.stderr)")
        var info = stat()
        #expect(lstat("\(out)/f", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == device)
      }
      if command[0] == "extract" {
        // Only the bytes written are counted: `h` (and `f` where no device could be made).
        let summary = device == nil ? "extracted 2 files, 0 directories and 0 links (6 bytes)" : "extracted 1 file, 0 directories and 0 links (3 bytes)"
        #expect(result.stderr.contains(summary), "\(command): \(result.stderr)")
      }
    }
  }

  @Test("the extract summary counts only the bytes of files written, not of members refused as existing")
  func summaryCountsWrittenBytes() async throws {
    let (directory, _) = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data("old\n".utf8).write(to: directory.appendingPathComponent("out/h"))
    let result = try await CLI.run(["extract", "p.tar", "h", "-o", "out"], in: directory)
    #expect(result.status == 1, "\(result.stderr)")
    #expect(result.stderr.contains("entry 'h': the file exists; pass --force"), "\(result.stderr)")
    #expect(
      result.stderr.contains("extracted 0 files, 0 directories and 0 links (0 bytes) into out; 1 member failed or skipped"),
      "\(result.stderr)")
    #expect(try Data(contentsOf: directory.appendingPathComponent("out/h")) == Data("old\n".utf8))
  }

  @Test(
    "a symbolic link member whose path is also the directory of later members is refused as 'a directory this extraction created for other members', not 'the file exists; pass --force'"
  )
  func linkOverImpliedDirectoryIsExplained() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      """
      python3 -c "
      import tarfile, io
      with tarfile.open('c.tar', 'w', format=tarfile.USTAR_FORMAT) as t:
          i = tarfile.TarInfo('x/a'); i.type = tarfile.SYMTYPE; i.linkname = 'b'; t.addfile(i)
          i = tarfile.TarInfo('x/a/f'); i.size = 2; t.addfile(i, io.BytesIO(b'E\\\\n'))
      "
      """, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let result = try await CLI.run(["extract", "c.tar", "-o", "out"], in: directory)
    #expect(result.status == 1, "\(result.stderr)")
    #expect(
      result.stderr.contains("entry 'x/a': it is a directory this extraction created for other members below it"),
      "\(result.stderr)")
    #expect(!result.stderr.contains("pass --force"), "\(result.stderr)")
  }
}
