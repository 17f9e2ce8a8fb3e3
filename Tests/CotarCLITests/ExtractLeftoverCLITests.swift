import CotarTestSupport
import Foundation
import Testing

/// `extract` and `get -o DIR` leave no `.NAME.cotar-tmp-X` file behind: SIGINT/SIGTERM removes the
/// ones in progress, and the next run removes those a killed run left beside the entries it
/// writes (README "Outputs").
@Suite("cotar extract / get -o DIR leave no temporary files")
struct ExtractLeftoverCLITests {
  /// The names under `directory` (recursively) that contain `.cotar-tmp-`.
  static func temporaryNames(under directory: String) -> [String] {
    let walker = FileManager.default.enumerator(atPath: directory)
    var found: [String] = []
    while let name = walker?.nextObject() as? String {
      if (name as NSString).lastPathComponent.contains(".cotar-tmp-") { found.append(name) }
    }
    return found
  }

  @Test(
    "SIGINT while a file is being written removes its temporary file", .timeLimit(.minutes(5)),
    arguments: ["extract", "get"])
  func interrupted(command: String) async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = directory.appendingPathComponent("sparse.tar").path
    try await CLIInterruptTests.makeSparseTar(tar)
    #expect(try await CLI.run(["index", tar]).status == 0)
    try Data("big.bin\n".utf8).write(to: directory.appendingPathComponent("list.txt"))
    // The signal must land while the 1 GiB file is being written: wait until its temporary
    // file exists, then interrupt. A run that finished first is not an interruption; try
    // again, a bounded number of times.
    for _ in 0..<5 {
      let output = directory.appendingPathComponent("out").path
      try? FileManager.default.removeItem(atPath: output)
      let arguments =
        command == "extract"
        ? ["extract", tar, "-o", output]
        : ["get", tar, "--paths-from", directory.appendingPathComponent("list.txt").path, "-o", output]
      // Polling and waiting block: they run off the cooperative threads.
      let status = try await ProcessRunner.offThePool { () throws -> Int32 in
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(50)
        while process.isRunning, Self.temporaryNames(under: output).isEmpty, Date() < deadline { usleep(500) }
        process.interrupt()
        process.waitUntilExit()
        return process.terminationStatus
      }
      if status == 0 { continue }
      #expect(status == 130)
      #expect(Self.temporaryNames(under: output) == [])
      return
    }
    Issue.record("every run finished before the interrupt landed")
  }

  @Test("the next run removes a killed run's temporary files beside the entries it writes", arguments: ["extract", "get"])
  func leftoversOfAKilledRun(command: String) async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tree = directory.appendingPathComponent("tree")
    try FileManager.default.createDirectory(at: tree.appendingPathComponent("d"), withIntermediateDirectories: true)
    try Data("f\n".utf8).write(to: tree.appendingPathComponent("f"))
    try Data("g\n".utf8).write(to: tree.appendingPathComponent("d/g"))
    let tar = directory.appendingPathComponent("t.tar").path
    #expect(try await CLI.run(["tar", tar, "--base", tree.path, ".", "--index"]).status == 0)
    let output = directory.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: output.appendingPathComponent("d"), withIntermediateDirectories: true)
    // What a killed run leaves (a base-36 suffix, and mkstemp's six characters), and names
    // that are not the temporary files of an entry written (kept).
    let planted = [".f.cotar-tmp-abcdef", "d/.g.cotar-tmp-1x2y3z", "d/.g.cotar-tmp-AbC123"]
    let kept = [".other.cotar-tmp-abcdef", "d/.f.cotar-tmp-abcdef", ".f.cotar-tmp-", ".f.cotar-tmp-abcdefgh", ".f.cotar-tmp-abc-de"]
    // A user's own files named like other tools' temporaries are not cotar's: never removed.
    let users = [".f.tmp-abcdef", "d/.g.tmp-1", ".f.tmp-bak"]
    for name in planted + kept + users { try Data("partial".utf8).write(to: output.appendingPathComponent(name)) }
    // Only files at least 2 s old are removed (a concurrent run's are younger): age them.
    try await Task.sleep(for: .milliseconds(2500))
    try Data("f\nd/g\n".utf8).write(to: directory.appendingPathComponent("list.txt"))
    let arguments =
      command == "extract"
      ? ["extract", tar, "-o", output.path, "--force"]
      : ["get", tar, "--paths-from", directory.appendingPathComponent("list.txt").path, "-o", output.path, "--force"]
    let run = try await CLI.run(arguments)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(Self.temporaryNames(under: output.path).sorted() == kept.sorted())
    for name in users {
      #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent(name).path), "\(name) was removed")
    }
    #expect(try Data(contentsOf: output.appendingPathComponent("d/g")) == Data("g\n".utf8))
  }
}
