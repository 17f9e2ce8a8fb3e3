import CotarTestSupport
import Foundation

/// The result of running the built `cotar` binary.
typealias CommandResult = ProcessResult

/// Runs the `cotar` executable built beside the test bundle, as a user would.
enum CLI {
  static let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
  }()

  static let executable: URL = {
    let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cotar")
    if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
    return repositoryRoot.appendingPathComponent(".build/debug/cotar")
  }()

  static func fixture(_ name: String) -> String { repositoryRoot.appendingPathComponent("Fixtures/\(name)").path }

  /// Runs `cotar` with `arguments` in `directory`.
  static func run(_ arguments: [String], in directory: URL? = nil) async throws -> CommandResult {
    try await launch(executable, arguments, in: directory)
  }

  /// Runs any program and captures its output (see ``ProcessRunner``). The wait happens on a
  /// thread of its own (``ProcessRunner/runDetached(_:_:in:environment:)``), never on one of
  /// the cooperative threads that the in-process HTTP servers and clients of parallel suites
  /// need: a blocking wait there starved them into their time limits on a loaded machine.
  static func launch(_ program: URL, _ arguments: [String], in directory: URL? = nil) async throws -> CommandResult {
    try await ProcessRunner.runDetached(program.path, arguments, in: directory?.path)
  }

  /// Runs a shell command line (for arguments that are not valid UTF-8).
  static func shell(_ script: String, in directory: URL? = nil) async throws -> CommandResult {
    try await launch(URL(fileURLWithPath: "/bin/sh"), ["-c", script], in: directory)
  }

  /// Runs `cotar arguments` in `directory` with `COTAR_PAUSE_AT=step` (debug builds), sends
  /// it `signal` once it says it paused there, and returns how it ended. Reading its stderr
  /// and waiting block, so both run off the cooperative threads.
  static func interrupt(
    _ arguments: [String], in directory: String, pausedAt step: String, with signal: Int32
  ) async throws -> (reason: Process.TerminationReason, status: Int32) {
    let binary = executable.path
    return try await ProcessRunner.offThePool { () throws -> (Process.TerminationReason, Int32) in
      let process = Process()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = arguments
      process.currentDirectoryURL = URL(fileURLWithPath: directory)
      process.environment = ProcessInfo.processInfo.environment.merging(["COTAR_PAUSE_AT": step]) { $1 }
      let err = Pipe()
      process.standardError = err
      process.standardOutput = FileHandle.nullDevice
      try process.run()
      var seen = Data()
      while !String(decoding: seen, as: UTF8.self).contains("paused at") {
        let chunk = err.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        seen.append(chunk)
      }
      kill(process.processIdentifier, signal)
      process.waitUntilExit()
      return (process.terminationReason, process.terminationStatus)
    }
  }

  /// A fresh temporary directory under this test process's ``ScratchSpace``.
  static func temporaryDirectory() throws -> URL {
    try ScratchSpace.directory("cotar-cli")
  }
}
