import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// Damaged data in a `.tar.gz` is a per-entry problem (README "extract"): `extract` and
/// `get -o DIR` report and skip every entry whose bytes lie in a damaged seek-point segment,
/// write every other entry, and exit with status 1.
@Suite("cotar extract / get -o DIR with a damaged .tar.gz segment", .timeLimit(.minutes(5)))
struct GzipDamageCLITests {
  /// A damaged archive `st.tar.gz` (indexed before the damage) in `directory`, the tree's
  /// files by path, and the paths whose bytes lie in the damaged segment.
  struct Damaged {
    var files: [String: [UInt8]]
    var damaged: Set<String>
  }

  /// `src/`: a.txt, ln -> a.txt, d/f1…d/f50 (random, 1 to 50 KB), as GNU tar + gzip, indexed
  /// with seek points every 64 KiB; then one byte in the middle of the archive is flipped.
  /// (Random bytes make stored deflate blocks: the flip inflates, and only the segment's
  /// CRC-32 catches it.)
  static func makeDamaged(in directory: URL) async throws -> Damaged {
    let source = directory.appendingPathComponent("src")
    try FileManager.default.createDirectory(at: source.appendingPathComponent("d"), withIntermediateDirectories: true)
    var random = SplitMix64(seed: 77)
    var files: [String: [UInt8]] = ["./a.txt": Array("hello\n".utf8)]
    try Data("hello\n".utf8).write(to: source.appendingPathComponent("a.txt"))
    try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("ln").path, withDestinationPath: "a.txt")
    for number in 1...50 {
      let size = 1024 + Int(random.next() % (49 * 1024))
      let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      try Data(bytes).write(to: source.appendingPathComponent("d/f\(number)"))
      files["./d/f\(number)"] = bytes
    }
    let made = try await CLI.shell("tar cf - -C src . | gzip > st.tar.gz", in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let indexed = try await CLI.run(["index", "st.tar.gz", "--seek-spacing", "64KiB"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    // The segment to damage (one in the middle) and the entries whose reads cover it: their
    // data, and the header block before it that a sidecar read checks too.
    let archive = directory.appendingPathComponent("st.tar.gz")
    let cotar = try await Cotar.open(location: archive.path)
    let gzip = try #require(cotar.data as? GzipTarSource)
    #expect(gzip.points.count >= 6, "\(gzip.points.count) seek points")
    let segment = gzip.points.count / 2
    let tarRange = gzip.points[segment].uncompressedOffset..<gzip.points[segment + 1].uncompressedOffset
    let lead: UInt64 = cotar.checksEntryHeaders ? 512 : 0
    var damaged: Set<String> = []
    for (path, bytes) in files where !bytes.isEmpty {
      let entry = try #require(try await cotar.entry(path))
      if tarRange.overlaps((entry.offset - lead)..<(entry.offset + entry.size)) { damaged.insert(path) }
    }
    #expect(!damaged.isEmpty && damaged.count < 10, "\(damaged)")
    var compressed = try [UInt8](Data(contentsOf: archive))
    let flip = Int(gzip.points[segment].compressedByteOffset) + 2000
    compressed[flip] ^= 1
    try Data(compressed).write(to: archive)
    return Damaged(files: files, damaged: damaged)
  }

  /// Checks an output directory: the damaged entries are named on stderr and absent, every
  /// other file is there with its bytes, and no temporary file is left.
  static func checkOutput(
    _ output: URL, _ result: CommandResult, _ archive: Damaged, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    #expect(result.status == 1, "\(result.stderr)", sourceLocation: sourceLocation)
    for path in archive.damaged {
      let name = String(path.dropFirst(2))
      #expect(
        result.stderr.contains("entry '\(path)', byte "), "\(path) not reported: \(result.stderr)",
        sourceLocation: sourceLocation)
      #expect(
        !FileManager.default.fileExists(atPath: output.appendingPathComponent(name).path), "\(path) written",
        sourceLocation: sourceLocation)
    }
    for (path, bytes) in archive.files where !archive.damaged.contains(path) {
      let written = try? Data(contentsOf: output.appendingPathComponent(String(path.dropFirst(2))))
      let intact = written.map { [UInt8]($0) == bytes } ?? false
      #expect(intact, "\(path) missing or wrong", sourceLocation: sourceLocation)
    }
    #expect(
      ExtractLeftoverCLITests.temporaryNames(under: output.path).isEmpty, "temporary files left",
      sourceLocation: sourceLocation)
  }

  @Test("extract writes every intact entry (and the symlink), reports each damaged one, exits 1")
  func extract() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let archive = try await Self.makeDamaged(in: directory)
    let result = try await CLI.run(["extract", "st.tar.gz", "-o", "ex"], in: directory)
    try Self.checkOutput(directory.appendingPathComponent("ex"), result, archive)
    let link = try? FileManager.default.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("ex/ln").path)
    #expect(link == "a.txt")
    // One line per damaged entry.
    let lines = result.stderr.split(separator: "\n").filter { $0.contains("CRC-32") || $0.contains("corrupt") }
    #expect(lines.count == archive.damaged.count, "\(result.stderr)")
  }

  @Test("get --paths-from - -o DIR writes every intact entry, reports each damaged one, exits 1")
  func getBatch() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let archive = try await Self.makeDamaged(in: directory)
    let result = try await CLI.shell(
      "'\(CLI.executable.path)' ls -r --files st.tar.gz | '\(CLI.executable.path)' get st.tar.gz --paths-from - -o go",
      in: directory)
    try Self.checkOutput(directory.appendingPathComponent("go"), result, archive)
  }
}
