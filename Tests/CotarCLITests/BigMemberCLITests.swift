import CotarTestSupport
import Foundation
import Testing

/// A plain tar (no index) with a member of 4 GiB or more, which the v2 format cannot describe:
/// `get` and `extract` index it in memory without that member and still read every member,
/// the big one streamed; `cotar index` keeps refusing it for an index on disk (SPEC §4).
@Suite("Plain tars with a member of 4 GiB or more", .timeLimit(.minutes(5)))
struct BigMemberCLITests {
  /// Size of the big member: 5 GiB of zeros, a hole of a sparse file, ending in "END".
  static let bigSize: UInt64 = 5 << 30

  /// Writes `big.tar` in `directory`: `before.txt`, `huge.bin` (5 GiB, a hole but for its
  /// last 3 bytes), `after.txt`, and a hard link `huge.link` to `huge.bin`. Sparse: a few
  /// KiB on disk.
  static func makeBigTar(in directory: URL) throws -> String {
    let path = directory.appendingPathComponent("big.tar").path
    var head = TestTar()
    head.add("before.txt", "before\n")
    let hugeHeader = TestTar.header(Array("huge.bin".utf8), size: bigSize)
    var tail = TestTar()
    tail.add("after.txt", "after\n")
    tail.add(Array("huge.link".utf8), typeflag: UInt8(ascii: "1"), link: Array("huge.bin".utf8))
    #expect(FileManager.default.createFile(atPath: path, contents: Data(head.bytes + hugeHeader)))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    let dataStart = UInt64(head.bytes.count + 512)
    try handle.seek(toOffset: dataStart + bigSize - 3)
    try handle.write(contentsOf: Data("END".utf8))  // bigSize is a multiple of 512: no padding
    try handle.write(contentsOf: Data(tail.finished))
    return path
  }

  @Test("get and extract read every member of a plain tar with a 5 GiB member; index refuses it")
  func bigMember() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = try Self.makeBigTar(in: directory)
    var info = stat()
    #expect(stat(tar, &info) == 0)
    #expect(UInt64(info.st_size) > Self.bigSize)
    #expect(info.st_blocks * 512 < 1 << 20, "the test tar must be sparse (\(info.st_blocks) blocks)")

    let after = try await CLI.run(["get", tar, "after.txt"])
    #expect(after.status == 0, "\(after.stderr)")
    #expect(after.stdoutText == "after\n")
    let several = try await CLI.run(["get", tar, "before.txt", "after.txt", "-o", directory.appendingPathComponent("several").path])
    #expect(several.status == 0, "\(several.stderr)")
    #expect(try String(contentsOf: directory.appendingPathComponent("several/after.txt"), encoding: .utf8) == "after\n")

    // The big member streamed to a pipe: all 5 GiB; the hard link to it ends in END.
    let cotar = "'\(CLI.executable.path)'"
    let big = try await CLI.shell("\(cotar) get '\(tar)' huge.bin | wc -c", in: directory)
    #expect(big.status == 0, "\(big.stderr)")
    #expect(big.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(Self.bigSize)", "\(big.stdoutText)")
    let link = try await CLI.shell("\(cotar) get '\(tar)' huge.link | tail -c 3", in: directory)
    #expect(link.status == 0, "\(link.stderr)")
    #expect(link.stdoutText == "END", "\(link.stdoutText)")

    let out = directory.appendingPathComponent("out")
    let extracted = try await CLI.run(["extract", tar, "after.txt", "before.txt", "-o", out.path])
    #expect(extracted.status == 0, "\(extracted.stderr)")
    #expect(try String(contentsOf: out.appendingPathComponent("after.txt"), encoding: .utf8) == "after\n")
    #expect(try String(contentsOf: out.appendingPathComponent("before.txt"), encoding: .utf8) == "before\n")
    let listed = try await CLI.run(["ls", "--long", tar])
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdoutText.contains("\(Self.bigSize)"), "\(listed.stdoutText)")

    // An index on disk cannot hold it: refused with the format's limit, nothing written.
    let indexed = try await CLI.run(["index", tar])
    #expect(indexed.status != 0)
    #expect(indexed.stderr.contains("larger than a v2 index can describe"), "\(indexed.stderr)")
    #expect(!FileManager.default.fileExists(atPath: tar + ".index"))
  }
}
