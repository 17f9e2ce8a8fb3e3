import Foundation

/// The result of running the built `cotar` binary.
struct CommandResult {
  var status: Int32
  var stdout: Data
  var stderr: String

  var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

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
  static func run(_ arguments: [String], in directory: URL? = nil) throws -> CommandResult {
    try launch(executable, arguments, in: directory)
  }

  /// Runs any program and captures its output (through temporary files, so large outputs cannot block).
  static func launch(_ program: URL, _ arguments: [String], in directory: URL? = nil) throws -> CommandResult {
    let scratch = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout")
    let errURL = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = program
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    return CommandResult(
      status: process.terminationStatus, stdout: try Data(contentsOf: outURL),
      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
  }

  /// Runs a shell command line (for arguments that are not valid UTF-8).
  static func shell(_ script: String, in directory: URL? = nil) throws -> CommandResult {
    try launch(URL(fileURLWithPath: "/bin/sh"), ["-c", script], in: directory)
  }

  /// A fresh temporary directory.
  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("cotar-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
