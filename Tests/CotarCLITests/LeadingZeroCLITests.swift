import CotarTestSupport
import Foundation
import Testing

/// Files whose first block is zero but that are not empty tars (E10): an ISO 9660 image
/// (32 KiB of zero system area before its volume descriptors) is named for what it is, and
/// data after an end-of-archive marker at offset 0 is refused, where an empty index used to
/// be written with exit 0. Empty tars, their `.tar.co` and trailing bytes after real members
/// stay accepted.
@Suite("Files that start with zero blocks", .timeLimit(.minutes(5)))
struct LeadingZeroCLITests {
  /// The commands that read a file as a tar, each run on `file` in the test's directory.
  static func commands(_ file: String) -> [[String]] {
    [
      ["index", file], ["create", file], ["ls", file], ["ls", "--tar-order", file], ["ls", "--long", file],
      ["stat", file, "a.txt"], ["get", file, "a.txt"], ["extract", file, "-o", "out"],
    ]
  }

  @Test("an ISO 9660 image made by bsdtar is named as one by index, create, ls, stat, get and extract")
  func isoImage() async throws {
    try #require(ProcessRunner.isAvailable("bsdtar"), "bsdtar is not installed (apt-get install libarchive-tools; .ci/run does)")
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      "mkdir src && echo hi > src/a.txt && bsdtar -C src --format=iso9660 -cf img.iso . && cp img.iso img.tar", in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    for file in ["img.iso", "img.tar"] {
      for command in Self.commands(file) {
        let result = try await CLI.run(command, in: directory)
        #expect(result.status == 1, "\(command): \(result.stderr)")
        #expect(
          result.stderr.contains("\(file) is not a tar: it looks like an ISO 9660 image"), "\(command): \(result.stderr)")
      }
    }
    let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(left == ["img.iso", "img.tar", "src"], "nothing written: \(left)")
    // The conversion the message suggests works.
    let converted = try await CLI.shell("bsdtar -cf new.tar @img.tar", in: directory)
    #expect(converted.status == 0, "\(converted.stderr)")
    let got = try await CLI.run(["get", "new.tar", "a.txt"], in: directory)
    #expect(got.status == 0 && got.stdoutText == "hi\n", "\(got.stderr)")
  }

  @Test("data after an end-of-archive marker at offset 0 is refused, naming the first non-zero byte")
  func dataAfterLeadingEndMarker() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // zeros.tar: two zero blocks, then data, then a zero block (so it also ends like a tar);
    // lone.tar: one zero block before a GNU tar archive ("A lone zero block" to GNU tar).
    let made = try await CLI.shell(
      """
      set -e
      head -c 1024 /dev/zero > zeros.tar && printf 'not a tar' >> zeros.tar && head -c 1015 /dev/zero >> zeros.tar
      echo hi > a.txt && tar -cf one.tar a.txt && head -c 512 /dev/zero > lone.tar && cat one.tar >> lone.tar
      """, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    for (file, offset) in [("zeros.tar", 1024), ("lone.tar", 512)] {
      for command in Self.commands(file) {
        let result = try await CLI.run(command, in: directory)
        #expect(result.status == 1, "\(command): \(result.stderr)")
        #expect(
          result.stderr.contains(
            "\(file) is not a tar: it starts with an end-of-archive marker (a zero block) but holds data after it (a non-zero byte at \(offset))"),
          "\(command): \(result.stderr)")
      }
    }
    let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(left == ["a.txt", "lone.tar", "one.tar", "zeros.tar"], "nothing written: \(left)")
  }

  @Test("an empty tar, its .tar.co (with a name table), appending to it, and bytes after real members stay accepted")
  func emptyTarsAndTrailingBytes() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      """
      set -e
      tar -cf empty.tar -T /dev/null
      echo hi > a.txt && tar -cf tail.tar a.txt && printf 'trailing garbage' >> tail.tar
      """, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    for command in [
      ["index", "empty.tar"], ["create", "empty.tar"], ["ls", "empty.tar.co"], ["ls", "--tar-order", "empty.tar.co"],
      ["ls", "--long", "empty.tar"], ["validate", "empty.tar.co"], ["extract", "empty.tar.co", "-o", "out"],
      ["index", "empty.tar.co", "--force"], ["index", "tail.tar"], ["append", "empty.tar.co", "a.txt"],
    ] {
      let result = try await CLI.run(command, in: directory)
      #expect(result.status == 0, "\(command): \(result.stderr)")
    }
    for archive in ["empty.tar.co", "tail.tar"] {
      let got = try await CLI.run(["get", archive, "a.txt"], in: directory)
      #expect(got.status == 0 && got.stdoutText == "hi\n", "\(archive): \(got.stderr)")
    }
  }
}
