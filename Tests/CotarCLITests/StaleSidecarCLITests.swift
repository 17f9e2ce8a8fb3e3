import CotarTestSupport
import Foundation
import Testing

/// `X.tar` rewritten by GNU tar after `cotar index X.tar`: `get`, `extract` and `serve` refuse
/// the stale sidecar (exit 1 or HTTP 500, the entry, byte offset and remedy named) instead of
/// writing or sending other members' bytes (SPEC §8.5).
@Suite("Stale sidecar indexes, command line", .timeLimit(.minutes(5)))
struct StaleSidecarCLITests {
  /// A new directory with X.tar (GNU tar of a.txt, big.bin of 9 MiB — streamed, not batched —
  /// b.txt and c.txt), indexed with `cotar index`, then `tar --delete -f X.tar a.txt`.
  static func stalePair() async throws -> URL {
    let directory = try CLI.temporaryDirectory()
    let made = try await CLI.shell(
      """
      printf 'alpha file\\n' > a.txt && head -c 9437184 /dev/urandom > big.bin \
      && printf 'bravo contents here, longer\\n' > b.txt && printf 'charlie\\n' > c.txt \
      && tar --format=gnu -cf X.tar a.txt big.bin b.txt c.txt
      """, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let indexed = try await CLI.run(["index", "X.tar"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    let deleted = try await CLI.shell("tar --delete -f X.tar a.txt", in: directory)
    #expect(deleted.status == 0, "\(deleted.stderr)")
    return directory
  }

  /// Checks a refusal: status 1, the archive, `entry`, the remedy, nothing on stdout.
  static func expectRefusal(_ result: CommandResult, entry: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == 1, "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "\(result.stdout.count) bytes written", sourceLocation: sourceLocation)
    #expect(result.stderr.contains("X.tar, entry '\(entry)', byte "), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains("the tar changed since it was indexed"), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains("cotar index X.tar --force"), "\(result.stderr)", sourceLocation: sourceLocation)
  }

  @Test("get of a small and of a streamed entry exits 1 with the message, writes nothing; index --force mends it")
  func getRefuses() async throws {
    let directory = try await Self.stalePair()
    defer { try? FileManager.default.removeItem(at: directory) }
    let small = try await CLI.run(["get", "X.tar", "b.txt"], in: directory)
    Self.expectRefusal(small, entry: "b.txt")
    let big = try await CLI.run(["get", "X.tar", "big.bin"], in: directory)
    Self.expectRefusal(big, entry: "big.bin")
    #expect(big.stderr.contains("byte 1024"), "\(big.stderr)")
    let toFile = try await CLI.run(["get", "X.tar", "big.bin", "-o", "big.out"], in: directory)
    Self.expectRefusal(toFile, entry: "big.bin")
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    #expect(!names.contains { $0.hasPrefix("big.out") || $0.contains(".cotar-tmp-") }, "\(names)")
    // The advice works.
    #expect(try await CLI.run(["index", "X.tar", "--force"], in: directory).status == 0)
    let mended = try await CLI.run(["get", "X.tar", "b.txt"], in: directory)
    #expect(mended.status == 0 && mended.stdout == Data("bravo contents here, longer\n".utf8), "\(mended.stderr)")
  }

  @Test("extract and get -o DIR stop at a streamed entry found stale: the entries after it are not written")
  func streamedStaleEntryStopsTheRun() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // After indexing, the 9 MiB member's header is retyped a directory (checksum mended): its
    // read, streamed on its own, finds the index stale, while a.txt before it and b.txt after
    // it still check out, so only stopping the run keeps b.txt from being written.
    let made = try await CLI.shell(
      """
      printf 'alpha\\n' > a.txt && head -c 9437184 /dev/urandom > aa-big.bin && printf 'bravo\\n' > b.txt \
      && tar --format=gnu -cf X.tar a.txt aa-big.bin b.txt
      """, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    #expect(try await CLI.run(["index", "X.tar"], in: directory).status == 0)
    let tar = directory.appendingPathComponent("X.tar")
    let handle = try FileHandle(forUpdating: tar)
    try handle.seek(toOffset: 1024)
    var header = [UInt8](try handle.read(upToCount: 512) ?? Data())
    #expect(header.count == 512 && header.starts(with: Array("aa-big.bin".utf8)))
    header[156] = UInt8(ascii: "5")
    header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
    let sum = header.reduce(0) { $0 + Int($1) }
    header.replaceSubrange(148..<156, with: Array(String(format: "%06o", sum).utf8) + [0, 0x20])
    try handle.seek(toOffset: 1024)
    try handle.write(contentsOf: header)
    try handle.close()
    for arguments in [["extract", "X.tar", "-o", "out"], ["get", "X.tar", "a.txt", "aa-big.bin", "b.txt", "-o", "out"]] {
      let out = directory.appendingPathComponent("out")
      try? FileManager.default.removeItem(at: out)
      let result = try await CLI.run(arguments, in: directory)
      #expect(result.status == 1, "\(arguments): \(result.stderr)")
      #expect(result.stderr.contains("X.tar, entry 'aa-big.bin', byte 1024: the tar changed since it was indexed"), "\(result.stderr)")
      let written = (try? FileManager.default.subpathsOfDirectory(atPath: out.path)) ?? []
      #expect(!written.contains("b.txt"), "\(arguments): \(written)")
      #expect(!written.contains { $0.contains("aa-big.bin") }, "\(arguments): \(written)")
    }
  }

  @Test("extract exits 1 with the message and leaves no file behind")
  func extractRefuses() async throws {
    let directory = try await Self.stalePair()
    defer { try? FileManager.default.removeItem(at: directory) }
    for arguments in [["extract", "X.tar", "-o", "out"], ["extract", "X.tar", "b.txt", "c.txt", "-o", "out"]] {
      let result = try await CLI.run(arguments, in: directory)
      #expect(result.status == 1, "\(result.stderr)")
      #expect(result.stderr.contains("the tar changed since it was indexed"), "\(result.stderr)")
      #expect(result.stderr.contains("cotar index X.tar --force"), "\(result.stderr)")
      let out = directory.appendingPathComponent("out")
      let written = (try? FileManager.default.subpathsOfDirectory(atPath: out.path)) ?? []
      #expect(written.isEmpty, "\(arguments): \(written)")
    }
  }

  @Test("serve answers 500 for a stale entry (small, streamed, ranged, fast path), never other bytes")
  func serveRefuses() async throws {
    let directory = try await Self.stalePair()
    defer { try? FileManager.default.removeItem(at: directory) }
    let server = try await ServeProcess.start(["X.tar", "--quiet"], in: directory)
    defer { server.stop() }
    for (path, headers) in [
      ("/v1/file/b.txt", ""), ("/v1/file/c.txt", ""), ("/v1/file/big.bin", ""), ("/v1/file/big.bin", "Range: bytes=5000000-5000099\r\n"),
      ("/v1/file/b.txt", "Range: bytes=2-5\r\n"),
    ] {
      let answer = await LoopbackClient.get(port: server.port, path, headers: headers) ?? "(no answer)"
      #expect(answer.hasPrefix("HTTP/1.1 500"), "\(path) \(headers): \(answer.prefix(200))")
      #expect(!answer.contains("charlie"), "\(path): \(answer.prefix(200))")
    }
  }
}
