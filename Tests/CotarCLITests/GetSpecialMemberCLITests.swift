import CotarTestSupport
import Foundation
import Testing

/// `get` of a member that is in the archive but has no data it can read (a sparse file, a
/// FIFO) says so instead of "not in"; a plain tar without index is answered from the name
/// table its in-memory scan builds (its symbolic links: `PlainTarCLITests.symbolicLinksWithoutIndex`).
@Suite("CLI get of special members", .timeLimit(.minutes(5)))
struct GetSpecialMemberCLITests {
  @Test(
    "get of a GNU tar sparse member or FIFO says it is in the archive but not a file (plain tar scanned in memory, and .tar.co); extract names the possible kinds"
  )
  func specialMembersAreNamed() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      """
      mkdir src && python3 -c "
      f = open('src/sparse.bin', 'wb'); f.seek(1 << 20); f.write(b'HELLO' * 100); f.seek(5 << 20); f.truncate()
      " && tar -C src --format=posix --sparse --sparse-version=1.0 -cf s.tar sparse.bin \
        && mkfifo src/x && tar -C src -cf f.tar x && cp s.tar sc.tar
      """, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let created = try await CLI.run(["create", "sc.tar"], in: directory)
    #expect(created.status == 0, "\(created.stderr)")
    for (archive, path) in [("s.tar", "sparse.bin"), ("sc.tar.co", "sparse.bin"), ("f.tar", "x")] {
      let result = try await CLI.run(["get", archive, path], in: directory)
      #expect(result.status == 1, "\(archive): \(result.stderr)")
      #expect(result.stdout.isEmpty)
      #expect(
        result.stderr.contains(
          "'\(path)' is in \(archive), but not as a file, directory or link: it is a device, FIFO, sparse file"),
        "\(archive): \(result.stderr)")
      #expect(!result.stderr.contains("is not in"), "\(archive): \(result.stderr)")
    }
    let extracted = try await CLI.run(["extract", "f.tar", "-o", "out"], in: directory)
    #expect(extracted.status == 1, "\(extracted.stderr)")
    #expect(
      extracted.stderr.contains(
        "cotar: f.tar, entry 'x': skipping a member that is not a file, directory or link: it is a device, FIFO, sparse file, multi-volume continuation"),
      "\(extracted.stderr)")
   }
}
