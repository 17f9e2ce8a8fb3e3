import CotarTestSupport
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A `cotar serve` child process on 127.0.0.1 with an ephemeral port, for tests that measure
/// the server as a user runs it (RSS, file-descriptor limits, signals). Unchecked `Sendable`:
/// its one mutable property is set in `init`, before the value is shared.
final class ServeProcess: @unchecked Sendable {
  let process = Process()
  let logURL: URL
  private(set) var port = 0

  /// Starts `cotar serve ARGS --port 0`, through `/bin/sh -c` when `shellPrefix` is given
  /// (such as `ulimit -n 256;`), with `environment` added to this process's, and waits until
  /// it listens.
  init(_ arguments: [String], shellPrefix: String? = nil, in directory: URL, environment: [String: String] = [:]) throws {
    logURL = directory.appendingPathComponent("serve-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
    let output = try FileHandle(forWritingTo: logURL)
    let all = ["serve"] + arguments + ["--host", "127.0.0.1", "--port", "0"]
    if let shellPrefix {
      process.executableURL = URL(fileURLWithPath: "/bin/sh")
      let quoted = ([CLI.executable.path] + all).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
      process.arguments = ["-c", "\(shellPrefix) exec \(quoted.joined(separator: " "))"]
    } else {
      process.executableURL = CLI.executable
      process.arguments = all
    }
    process.currentDirectoryURL = directory
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline, process.isRunning {
      if let found = Self.listeningPort(in: self.log) {
        port = found
        return
      }
      Thread.sleep(forTimeInterval: 0.05)
    }
    stop()
    throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "cotar serve did not start: \(self.log)"])
  }

  /// ``init(_:shellPrefix:in:environment:)`` on a thread of its own, so that waiting for the
  /// server to listen does not hold a cooperative thread that parallel suites need.
  static func start(
    _ arguments: [String], shellPrefix: String? = nil, in directory: URL, environment: [String: String] = [:]
  ) async throws -> ServeProcess {
    try await withCheckedThrowingContinuation { continuation in
      Thread {
        continuation.resume(
          with: Result { try ServeProcess(arguments, shellPrefix: shellPrefix, in: directory, environment: environment) })
      }.start()
    }
  }

  /// Everything the server printed so far.
  var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

  static func listeningPort(in log: String) -> Int? {
    guard let range = log.range(of: "listening on http://127.0.0.1:") else { return nil }
    return Int(log[range.upperBound...].prefix { $0.isNumber })
  }

  var pid: Int32 { process.processIdentifier }

  /// The resident set size in bytes, from `/proc/<pid>/status` (`VmRSS`).
  func residentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      return fields.count >= 2 ? Int(fields[1]).map { $0 * 1024 } : nil
    }
    return nil
  }

  /// User plus system CPU time consumed so far, in seconds (`/proc/<pid>/stat`).
  func cpuSeconds() -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
  }

  /// Sends `signal`.
  func signal(_ signal: Int32) { kill(pid, signal) }

  /// Waits up to `timeout` for the process to exit, on a thread of its own; whether it did.
  func waitForExit(timeout: TimeInterval) async -> Bool {
    await withCheckedContinuation { continuation in
      Thread { continuation.resume(returning: self.waitForExitBlocking(timeout: timeout)) }.start()
    }
  }

  private func waitForExitBlocking(timeout: TimeInterval) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    return !process.isRunning
  }

  /// Ends the process: SIGTERM now, and SIGKILL from a thread of its own if it still runs 5 s
  /// later. Returns at once, so a test's `defer { server.stop() }` never holds a cooperative
  /// thread through the server's shutdown grace period.
  func stop() {
    guard process.isRunning else { return }
    signal(SIGTERM)
    Thread { [self] in
      if !waitForExitBlocking(timeout: 5) {
        signal(SIGKILL)
        process.waitUntilExit()
      }
    }.start()
  }

  deinit {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGKILL)
  }
}

extension LoopbackClient {
  /// One `GET` on a fresh connection, read to the end (`Connection: close`) on a Dispatch
  /// thread.
  static func get(port: Int, _ path: String, headers: String = "") async -> String? {
    guard let client = LoopbackClient(port: port, receiveBuffer: 1 << 20) else { return nil }
    guard client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\(headers)\r\n") else { return nil }
    return String(decoding: await client.readOffThePool().bytes, as: UTF8.self)
  }
}
