import CotarCore
import CotarTestSupport
import CotarWriter
import Foundation
import Testing

/// End-to-end tests of `cotar tar`, `append` and `pack`, running the built binary, including
/// real crashes (`COTAR_FAIL_AT` exits at a step without cleanup; `kill -9`).
@Suite("Writer CLI", .serialized)
final class WriterCLITests {
  /// The `cotar` binary beside the test bundle (or in .build/debug of this package).
  static let binary: String = {
    let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cotar").path
    if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/cotar").path
  }()

  let dir: String

  init() throws {
    dir = ScratchSpace.path("cotar-writer-cli")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: dir) }

  func write(_ relative: String, _ bytes: [UInt8]) throws {
    let path = dir + "/" + relative
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  @discardableResult
  func cotar(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
    let result = try await ProcessRunner.runDetached(Self.binary, arguments, in: dir, environment: environment)
    return (result.status, result.stdoutText, result.stderr)
  }

  func makeTree() throws {
    try write("tree/a.txt", Array("hello\n".utf8))
    try write("tree/b/dup.txt", Array("hello\n".utf8))
    try write("tree/b/empty", [])
    try write("tree/" + String(repeating: "n", count: 150) + "/" + String(repeating: "m", count: 150), Array("long".utf8))
    try write("tree/été.txt", Array("utf8".utf8))
    try write("add/a.txt", Array("replaced\n".utf8))
    try write("add/c.txt", Array("new\n".utf8))
  }

  /// Whether `archive` is valid and is either the old one (a.txt = hello, no c.txt) or the new one.
  func oldOrNew(_ archive: String) async throws -> String {
    let path = dir + "/" + archive
    let source = try FileSource(path: path)
    let cotar = path.hasSuffix(".co")
      ? try await Cotar.open(source) : try await Cotar.open(tar: source, index: try FileSource(path: path + ".index"))
    let report = try await CotarValidator.validate(tar: source, index: cotar.index)
    #expect(report.isValid, "\(archive): \(report.problems)")
    let a = try await cotar.read("a.txt")
    let c = try await cotar.read("c.txt")
    if a == Array("hello\n".utf8) && c == nil { return "old" }
    if a == Array("replaced\n".utf8) && c == Array("new\n".utf8) { return "new" }
    Issue.record("\(archive) is neither the old nor the new archive")
    return "broken"
  }

  @Test func tarIsReproducibleAndDedupesWithSHA256() async throws {
    try makeTree()
    #expect(try await cotar(["tar", "one.tar.co", "--base", "tree", ".", "--co", "--index"]).status == 0)
    let second = try await cotar(["tar", "two.tar.co", "--base", "tree", ".", "--co"])
    #expect(second.status == 0)
    #expect(second.stderr.contains("1 file stored as a hard link"))
    let one = try Data(contentsOf: URL(fileURLWithPath: dir + "/one.tar.co"))
    #expect(one == (try Data(contentsOf: URL(fileURLWithPath: dir + "/two.tar.co"))))
    #expect(FileManager.default.fileExists(atPath: dir + "/one.tar.co.index"))
    #expect(try await cotar(["validate", "one.tar.co"]).stdout.hasPrefix("valid"))
    #expect(try await cotar(["tar", "one.tar.co", "--base", "tree", "."]).status != 0)  // exists, no --force
  }

  @Test func tarOfAnUnreadableInputFailsCleanly() async throws {
    try makeTree()
    let result = try await cotar(["tar", "out.tar", "--base", "tree", "a.txt", "missing.txt"])
    #expect(result.status != 0)
    #expect(result.stderr.contains("missing.txt"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.contains("out.tar") })
  }

  @Test(arguments: ["co", "tar"])
  func crashAtEachStepLeavesOldOrNew(layout: String) async throws {
    try makeTree()
    let archive = layout == "co" ? "base.tar.co" : "base.tar"
    let flags = layout == "co" ? ["--co"] : ["--index"]
    #expect(try await cotar(["tar", archive, "--base", "tree", "."] + flags).status == 0)
    let pristine = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + archive))
    let pristineIndex = layout == "co" ? nil : try Data(contentsOf: URL(fileURLWithPath: dir + "/" + archive + ".index"))
    for step in ArchiveAppender.Step.allCases where !(layout == "co" && step == .sidecarRenamed) {
      try pristine.write(to: URL(fileURLWithPath: dir + "/" + archive))
      try pristineIndex?.write(to: URL(fileURLWithPath: dir + "/" + archive + ".index"))
      let run = try await cotar(["append", archive, "--base", "add", "a.txt", "c.txt"], environment: ["COTAR_FAIL_AT": step.rawValue])
      #expect(run.status == 86, "\(step): \(run.stderr)")
      if layout == "tar" && step == .renamed {
        // The one non-atomic moment of the sidecar layout: new tar, old sidecar. The tar is
        // complete and every old path still resolves to its old bytes; the next append or
        // `cotar index` brings the sidecar up to date.
        #expect(try await writerTarList(dir + "/" + archive).contains("c.txt"))
        continue
      }
      let state = try await oldOrNew(archive)
      #expect(state == (step == .renamed || step == .sidecarRenamed ? "new" : "old"), "\(step)")
    }
    try pristine.write(to: URL(fileURLWithPath: dir + "/" + archive))
    try pristineIndex?.write(to: URL(fileURLWithPath: dir + "/" + archive + ".index"))
    #expect(try await cotar(["append", archive, "--base", "add", "a.txt", "c.txt"]).status == 0)
    #expect(try await oldOrNew(archive) == "new")
    #expect(try await cotar(["validate", archive]).status == 0)
  }

  @Test func killNineDuringALargeAppend() async throws {
    try makeTree()
    #expect(try await cotar(["tar", "big.tar.co", "--base", "tree", ".", "--co"]).status == 0)
    // 24 MiB of new data so the append is still running when it is killed.
    for index in 0..<6 { try write("add/big\(index).bin", [UInt8](repeating: UInt8(index + 1), count: 4 << 20)) }
    // Deterministic: pause at a step and kill there.
    for step in ["prefix-copied", "first-member", "tail-written", "synced"] {
      let (reason, _) = try await CLI.interrupt(
        ["append", "big.tar.co", "--base", "add", "."], in: dir, pausedAt: step, with: SIGKILL)
      #expect(reason == .uncaughtSignal, "\(step)")
      #expect(try await oldOrNew("big.tar.co") == "old", "\(step)")
    }
    // Timed: kill at arbitrary moments of a real run.
    for delay in [0.02, 0.08, 0.2] {
      let (binary, directory) = (Self.binary, dir)
      try await ProcessRunner.offThePool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["append", "big.tar.co", "--base", "add", "."]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: delay)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
      }
      _ = try await oldOrNew("big.tar.co")
    }
  }

  @Test func packWritesShardsAndManifest() async throws {
    for index in 0..<60 { try write("data/f\(index / 10)/x\(index).txt", Array(String(repeating: "\(index)", count: 300).utf8)) }
    let run = try await cotar(["pack", "data", "--shard-size", "8KiB", "-o", "shards/p", "--co"])
    #expect(run.status == 0, "\(run.stderr)")
    let set = try await CotarShardSet.open(manifestPath: dir + "/shards/p.manifest.json")
    #expect(set.manifest.shards.count > 3)
    #expect(set.manifest.shards.allSatisfy { $0.totalSize <= 8192 && $0.sha256.count == 64 })
    for index in 0..<60 {
      #expect(try await set.read("data/f\(index / 10)/x\(index).txt") == Array(String(repeating: "\(index)", count: 300).utf8))
    }
    let bad = try await cotar(["pack", "data", "--shard-size", "12 parsecs", "-o", "x"])
    #expect(bad.status != 0)
  }
}

/// The member names GNU tar lists.
func writerTarList(_ path: String) async throws -> [String] {
  try await ProcessRunner.runDetached("tar", ["-tf", path]).stdoutText.split(separator: "\n").map(String.init)
}
