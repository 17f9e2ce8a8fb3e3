import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// In messages about a `.tar.gz`, `byte N` is a byte of the compressed file and `tar byte N
/// (uncompressed)` one of the tar inside it; each offset is said once.
@Suite("cotar messages label .tar.gz offsets", .timeLimit(.minutes(5)))
struct GzipOffsetCLITests {
  @Test("a bad tar header inside a .tar.gz is at 'tar byte N (uncompressed)'")
  func tarHeaderOffset() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // a.txt: header at 0, data at 512; b.txt: header at 1024, its checksum field at 1172.
    let made = try await CLI.shell(
      """
      printf 'hello\\n' > a.txt && printf 'world\\n' > b.txt && tar --format=gnu -cf bad.tar a.txt b.txt \
      && printf X | dd of=bad.tar bs=1 seek=1174 conv=notrunc 2>/dev/null && gzip -c bad.tar > bad.tar.gz
      """, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let result = try await CLI.run(["index", "bad.tar.gz"], in: directory)
    #expect(result.status == 1)
    #expect(
      result.stderr.hasPrefix("cotar: bad.tar.gz, tar byte 1024 (uncompressed): invalid checksum field in tar header"),
      "\(result.stderr)")
    // The library says which space the offset counts.
    let error = await #expect(throws: CotarError.self) {
      try await GzipIndexBuilder.build(archive: FileSource(path: directory.appendingPathComponent("bad.tar.gz").path))
    }
    #expect(error?.code == .invalidTar)
    #expect(error?.offset == 1024)
    #expect(error?.offsetSpace == .uncompressedTar)
  }

  @Test("trailing garbage after a .tar.gz names its compressed byte once")
  func trailingGarbageOffset() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      "printf 'hello\\n' > a.txt && tar -cf - a.txt | gzip > garb.tar.gz && wc -c < garb.tar.gz > size && printf 'garbage!' >> garb.tar.gz",
      in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let size = try #require(
      UInt64(
        try String(contentsOf: directory.appendingPathComponent("size"), encoding: .utf8)
          .trimmingCharacters(in: .whitespacesAndNewlines)))
    let result = try await CLI.run(["index", "garb.tar.gz"], in: directory)
    #expect(result.status == 1)
    // Where zlib noticed: within the garbage's first bytes (it reads the gzip magic first).
    let line = try #require(result.stderr.split(separator: "\n").first.map(String.init))
    let prefix = "cotar: garb.tar.gz, byte "
    #expect(line.hasPrefix(prefix), "\(line)")
    let rest = line.dropFirst(prefix.count)
    let offset = try #require(UInt64(rest.prefix { $0.isNumber }), "\(line)")
    #expect((size..<(size + 8)).contains(offset), "\(line)")
    #expect(rest.drop { $0.isNumber }.hasPrefix(": the gzip data is corrupt (incorrect header check)"), "\(line)")
    #expect(!line.contains("compressed byte"), "\(line)")
  }
}
