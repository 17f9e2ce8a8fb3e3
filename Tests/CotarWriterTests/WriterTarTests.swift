import CotarCore
import CotarTestSupport
import CotarWriter
import Foundation
import Testing

@Suite("Writer: reproducible tar")
struct WriterTarTests {
  /// Writes `root` of `dir` to `output` with the library, as `cotar tar --base root .` does.
  func writeTar(_ dir: WriterTempDir, root: String, output: String, combined: Bool = true, dirs: Bool = false)
    async throws -> ReproducibleTar.Summary
  {
    let collection = try TarInputCollector(options: .init(base: dir.at(root), includeDirectories: dirs)).collect(["."])
    let plan = try TarPlan.plan(collection.inputs, digest: writerContentDigest)
    return try await ReproducibleTar.write(plan, to: dir.at(output), options: .init(combined: combined))
  }

  @Test("a file whose content was compared for deduplication and then changed is refused, not copied under its duplicates' links")
  func comparedFileChangedBeforeItsCopyIsRefused() async throws {
    let dir = try WriterTempDir()
    try dir.write("tree/a.txt", "same content")
    try dir.write("tree/b.txt", "same content")
    try dir.write("tree/c.txt", "other text!!")
    let collection = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."])
    let plan = try TarPlan.plan(collection.inputs, digest: writerContentDigest)
    #expect(plan.deduplicated == 1)
    // a.txt, which b.txt is to link to, is rewritten at the same size after the comparison
    // (after a pause longer than a coarse file-system timestamp's granule).
    try await Task.sleep(for: .milliseconds(20))
    try dir.write("tree/a.txt", "changed text")
    let failure = await #expect(throws: CotarError.self) {
      try await ReproducibleTar.write(plan, to: dir.at("out.tar"), options: .init(combined: true))
    }
    #expect(failure?.path == "a.txt", "\(String(describing: failure))")
    #expect(failure?.message.contains("after its content was compared with identical files") == true, "\(String(describing: failure))")
    #expect(!FileManager.default.fileExists(atPath: dir.at("out.tar")))
    // A new run lists a.txt again and writes the archive.
    try dir.write("tree/a.txt", "same content")
    _ = try await writeTar(dir, root: "tree", output: "out.tar")
  }

  @Test func sameBytesTwiceAndWhateverTheCreationOrder() async throws {
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "one")
    try writerMakeTree(in: dir, root: "two", reversed: true)
    _ = try await writeTar(dir, root: "one", output: "a.tar.co")
    _ = try await writeTar(dir, root: "one", output: "b.tar.co")
    _ = try await writeTar(dir, root: "two", output: "c.tar.co")
    let a = try dir.read("a.tar.co")
    #expect(a == (try dir.read("b.tar.co")))
    #expect(a == (try dir.read("c.tar.co")))
  }

  @Test func headersAreReproducibleAndSorted() async throws {
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "tree")
    let summary = try await writeTar(dir, root: "tree", output: "out.tar", combined: false)
    #expect(summary.deduplicated == 2)
    var entries: [TarEntry] = []
    _ = try await TarScanner(source: try FileSource(path: dir.at("out.tar"))).scan { entries.append($0) }
    let paths = entries.map(\.pathBytes)
    #expect(paths == paths.sorted { $0.lexicographicallyPrecedes($1) })
    #expect(entries.filter { $0.kind == .hardLink }.map(\.path) == ["sub/copy-of-a.txt", "sub/deep/copy2.txt"])
    #expect(entries.first { $0.path == "sub/outside" }?.linkTarget == "../../../etc/passwd")
    #expect(entries.contains { $0.pathBytes.count > 255 })
    // mtime, uid, gid, names: every ustar header has zero mtime/uid/gid and empty owner names.
    let bytes = try dir.read("out.tar")
    for entry in entries {
      let header = Array(bytes[Int(entry.dataOffset - 512)..<Int(entry.dataOffset)])
      #expect(Array(header[136..<147]) == Array("00000000000".utf8))
      #expect(Array(header[108..<115]) == Array("0000000".utf8))
      #expect(Array(header[116..<123]) == Array("0000000".utf8))
      #expect(header[265..<329].allSatisfy { $0 == 0 })
    }
  }

  @Test(
    "bsdtar extracts the tree it was given",
    .enabled(if: ProcessRunner.isAvailable("bsdtar"), "bsdtar is not installed (apt-get install libarchive-tools; .ci/run does)"))
  func bsdtarExtractsAnIdenticalTree() async throws {
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "tree")
    _ = try await writeTar(dir, root: "tree", output: "out.tar.co")
    try FileManager.default.createDirectory(atPath: dir.at("bsd"), withIntermediateDirectories: true)
    let run = try await writerRun(["bsdtar", "-xf", dir.at("out.tar.co"), "-C", dir.at("bsd")])
    #expect(run.status == 0, "\(run.stderr)")
    let diff = try await writerRun(["diff", "-r", "--no-dereference", dir.at("tree"), dir.at("bsd")])
    #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
  }

  @Test func gnuTarAndPythonExtractAnIdenticalTree() async throws {
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "tree")
    _ = try await writeTar(dir, root: "tree", output: "out.tar.co")
    let extractors: [(String, [String])] = [
      ("gnu", ["tar", "-xf", dir.at("out.tar.co"), "-C", dir.at("gnu")]),
      // The 'tar' extraction filter where this Python has one (3.11.4 and later; Debian 12's
      // own python3 is 3.11.2, which has none and extracts the same way without it).
      (
        "py",
        [
          "python3", "-c",
          "import sys, tarfile; extra = {'filter': 'tar'} if hasattr(tarfile, 'tar_filter') else {}; tarfile.open(sys.argv[1]).extractall(sys.argv[2], **extra)",
          dir.at("out.tar.co"), dir.at("py"),
        ]
      ),
    ]
    for (name, command) in extractors {
      try FileManager.default.createDirectory(atPath: dir.at(name), withIntermediateDirectories: true)
      let run = try await writerRun(command)
      #expect(run.status == 0, "\(name): \(run.stderr)")
      let diff = try await writerRun(["diff", "-r", "--no-dereference", dir.at("tree"), dir.at(name)])
      #expect(diff.status == 0, "\(name): \(diff.stdout)\(diff.stderr)")
    }
    // Hard links extract as links, executables keep their bit.
    var first = stat()
    var second = stat()
    stat(dir.at("gnu/a.txt"), &first)
    stat(dir.at("gnu/sub/copy-of-a.txt"), &second)
    #expect(first.st_ino == second.st_ino)
    #expect(access(dir.at("py/run.sh"), X_OK) == 0)
  }

  @Test func indexOfTheWrittenArchiveValidates() async throws {
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "tree")
    _ = try await writeTar(dir, root: "tree", output: "out.tar.co")
    let source = try FileSource(path: dir.at("out.tar.co"))
    let cotar = try await Cotar.open(source)
    let report = try await CotarValidator.validate(tar: source, index: cotar.index)
    #expect(report.isValid, "\(report.problems)")
    #expect(try await cotar.read("sub/deep/copy2.txt") == Array("hello\n".utf8))
    #expect(try await cotar.read("données/été.txt") == Array("été\n".utf8))
    #expect(try await cotar.read("empty") == [])
  }

  @Test func directoriesOnlyWithTheFlag() async throws {
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "tree")
    _ = try await writeTar(dir, root: "tree", output: "dirs.tar", dirs: true)
    let listing = try await writerRun(["tar", "-tf", dir.at("dirs.tar")]).stdout.split(separator: "\n")
    #expect(listing.contains("sub/"))
    #expect(listing.contains("sub/deep/"))
  }

  @Test func unreadableFileFailsAndLeavesNothing() async throws {
    guard getuid() != 0 else { return }  // root reads everything
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "tree")
    chmod(dir.at("tree/big.bin"), 0)
    await #expect(throws: CotarError.self) { _ = try await writeTar(dir, root: "tree", output: "out.tar") }
    let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("out.tar") }
    #expect(left.isEmpty)
  }

  @Test func fileVanishingMidWriteLeavesNothing() async throws {
    let dir = try WriterTempDir()
    try writerMakeTree(in: dir, root: "tree")
    let collection = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."])
    try FileManager.default.removeItem(atPath: dir.at("tree/run.sh"))
    let plan = try TarPlan.plan(collection.inputs)
    await #expect(throws: CotarError.self) {
      _ = try await ReproducibleTar.write(plan, to: dir.at("out.tar"), options: .init())
    }
    let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("out.tar") }
    #expect(left.isEmpty)
  }

  @Test func paxOnlyWhereUstarCannotHoldIt() throws {
    let short = try TarHeaderEncoder.encode(TarMember(pathBytes: Array("a/b.txt".utf8), kind: .file, size: 3, mode: 0o644))
    #expect(short.count == 512)
    let split = Array((String(repeating: "p", count: 150) + "/" + String(repeating: "n", count: 99)).utf8)
    #expect(try TarHeaderEncoder.encode(TarMember(pathBytes: split, kind: .file, mode: 0o644)).count == 512)
    let long = Array(String(repeating: "x", count: 300).utf8)
    let withPax = try TarHeaderEncoder.encode(TarMember(pathBytes: long, kind: .file, mode: 0o644))
    #expect(withPax[156] == UInt8(ascii: "x"))
    #expect(withPax.count == 512 * 3)
    let huge = try TarHeaderEncoder.encode(TarMember(pathBytes: [0x61], kind: .file, size: 1 << 34, mode: 0o644))
    #expect(String(decoding: huge[512..<1024], as: UTF8.self).hasPrefix("20 size=17179869184\n"))
    #expect(throws: CotarError.self) { try TarHeaderEncoder.encode(TarMember(pathBytes: [], kind: .file, mode: 0o644)) }
  }

  @Test func inputsOutsideTheBaseAreRejected() throws {
    let dir = try WriterTempDir()
    try dir.write("base/x.txt", "x")
    let collector = TarInputCollector(options: .init(base: dir.at("base")))
    #expect(throws: CotarError.self) { try collector.collect(["../x.txt"]) }
    #expect(throws: CotarError.self) { try collector.collect(["/etc/hostname"]) }
    #expect(try collector.collect([dir.at("base/x.txt")]).inputs.map(\.path) == ["x.txt"])
    #expect(try collector.collect(["./sub/../x.txt"]).inputs.isEmpty == false)
  }
}
