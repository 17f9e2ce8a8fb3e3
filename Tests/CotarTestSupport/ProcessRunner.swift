import Foundation

/// What a finished child process printed and how it ended.
public struct ProcessResult: Sendable {
  /// The exit status (128 + N for a signal).
  public var status: Int32
  /// Standard output, as bytes.
  public var stdout: Data
  /// Standard error, as text.
  public var stderr: String

  /// Standard output as UTF-8 text.
  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// The one way tests run other programs. Output goes through temporary files, not pipes, so
/// a child that prints megabytes to both streams can never block on a full pipe.
public enum ProcessRunner {
  /// Runs `program` with `arguments` and waits for it.
  ///
  /// - Parameters:
  ///   - program: an absolute path, or a name looked up on `PATH` (through `/usr/bin/env`).
  ///   - directory: the working directory, if not the current one.
  ///   - environment: variables added to (or replacing those of) this process's environment.
  public static func run(
    _ program: String, _ arguments: [String], in directory: String? = nil, environment: [String: String]? = nil
  ) throws -> ProcessResult {
    let scratch = try ScratchSpace.directory("cotar-run")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout")
    let errURL = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    if program.hasPrefix("/") {
      process.executableURL = URL(fileURLWithPath: program)
      process.arguments = arguments
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [program] + arguments
    }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    let status =
      process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    return ProcessResult(
      status: status, stdout: try Data(contentsOf: outURL),
      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
  }

  /// ``run(_:_:in:environment:)`` on a thread of its own: an async test waiting for the child
  /// does not hold one of the cooperative threads (as many as cores, 2 here) that every other
  /// test in the process needs. Blocking waits on those threads starve the parallel suites
  /// until their time limits pass.
  public static func runDetached(
    _ program: String, _ arguments: [String], in directory: String? = nil, environment: [String: String]? = nil
  ) async throws -> ProcessResult {
    try await offThePool { try run(program, arguments, in: directory, environment: environment) }
  }

  /// Runs blocking `work` (waiting for a child, sleeping in a loop) on a thread of its own,
  /// never on one of the cooperative threads the other tests in the process need.
  public static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      Thread { continuation.resume(with: Result { try work() }) }.start()
    }
  }

  /// Whether `tool` is on `PATH`, for tests that need an optional external program.
  public static func isAvailable(_ tool: String) -> Bool {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
  }
}
