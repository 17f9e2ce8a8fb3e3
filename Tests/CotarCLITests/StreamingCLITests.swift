import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// `cotar get` streams entries larger than its batch threshold (8 MiB): to a file, to
/// standard output (a file or a pipe), into a directory, locally and over HTTP.
@Suite("cotar get of large entries", .timeLimit(.minutes(5)))
struct StreamingCLITests {
  /// Two 20 MiB entries (different bytes) and small files, as a `.tar.co` on disk.
  static let archive = Task { () throws -> (path: String, big: [UInt8], other: [UInt8]) in
    var generator = SplitMix64(seed: 2019)
    func pattern(_ count: Int) -> [UInt8] {
      var bytes = [UInt8](repeating: 0, count: count)
      for index in stride(from: 0, to: count, by: 8) {
        let word = generator.next()
        for byte in 0..<min(8, count - index) { bytes[index + byte] = UInt8(truncatingIfNeeded: word >> (8 * byte)) }
      }
      return bytes
    }
    let big = pattern(20 << 20)
    let other = pattern((20 << 20) + 123)
    let tar = TarBytes.make([
      ("small/a.txt", Array("alpha".utf8)), ("big.bin", big), ("small/b.txt", Array("beta".utf8)),
      ("dir/other.bin", other),
    ])
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tar))
    let directory = try CLI.temporaryDirectory()
    let path = directory.appendingPathComponent("big.tar.co").path
    try Data(tar + built.index.bytes).write(to: URL(fileURLWithPath: path))
    return (path, big, other)
  }

  private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

  @Test("get -o FILE, get > FILE and get | cat stream a 20 MiB entry byte-exact")
  func local() async throws {
    let (archive, big, _) = try await Self.archive.value
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("out.bin").path
    let toFile = try await CLI.run(["get", archive, "big.bin", "-o", out, "--stats"])
    #expect(toFile.status == 0, "\(toFile.stderr)")
    #expect(try bytes(out) == big)
    // The kernel copy is credited to the source in --stats.
    let total = toFile.stderr.split(separator: "\n").first { $0.hasPrefix("stats: total:") }
    let counted = total.flatMap { line in line.split(separator: " ").dropLast().last.flatMap { UInt64($0) } }
    #expect((counted ?? 0) >= UInt64(big.count), "\(toFile.stderr)")

    let toStdout = try await CLI.run(["get", archive, "big.bin"])
    #expect(toStdout.status == 0, "\(toStdout.stderr)")
    #expect(Array(toStdout.stdout) == big)

    let piped = directory.appendingPathComponent("piped.bin").path
    let pipe = try await CLI.shell("'\(CLI.executable.path)' get '\(archive)' big.bin small/a.txt | cat > '\(piped)'")
    #expect(pipe.status == 0, "\(pipe.stderr)")
    #expect(try bytes(piped) == big + Array("alpha".utf8))

    let refused = try await CLI.run(["get", archive, "big.bin", "-o", out])
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("exists"), "\(refused.stderr)")
    #expect(try bytes(out) == big)
  }

  @Test("get -o DIR streams the large entries and batches the small ones, in one run")
  func directory() async throws {
    let (archive, big, other) = try await Self.archive.value
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("out").path
    let result = try await CLI.run(["get", archive, "small/a.txt", "big.bin", "dir/other.bin", "small/b.txt", "missing", "-o", out])
    #expect(result.status == 1)
    #expect(result.stderr.contains("'missing' is not in"), "\(result.stderr)")
    #expect(try bytes(out + "/big.bin") == big)
    #expect(try bytes(out + "/dir/other.bin") == other)
    #expect(try bytes(out + "/small/a.txt") == Array("alpha".utf8))
    #expect(try bytes(out + "/small/b.txt") == Array("beta".utf8))
    let names = try FileManager.default.subpathsOfDirectory(atPath: out).sorted()
    #expect(names == ["big.bin", "dir", "dir/other.bin", "small", "small/a.txt", "small/b.txt"])
  }

  @Test("get of a 20 MiB entry over HTTP: parallel parts pinned to one ETag, byte-exact")
  func remote() async throws {
    let (archive, big, _) = try await Self.archive.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    try await server.putFile("big.tar.co", path: archive)
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("out.bin").path
    let result = try await CLI.run(["get", server.url("big.tar.co"), "big.bin", "-o", out, "--stats"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try bytes(out) == big)
    // Open (suffix read) and lookup, then parts of 1, 2, 4, 8 and 5 MiB.
    let parts = StreamOptions().plan(0..<UInt64(big.count), local: false).count
    #expect(parts == 5)
    let log = server.log
    #expect(log.count <= 3 + parts, "\(log.map { $0.range ?? "-" })")
    #expect(log.dropFirst().allSatisfy { $0.ifMatch != nil }, "\(log)")

    let toStdout = try await CLI.run(["get", server.url("big.tar.co"), "big.bin"])
    #expect(toStdout.status == 0, "\(toStdout.stderr)")
    #expect(Array(toStdout.stdout) == big)
  }
}
