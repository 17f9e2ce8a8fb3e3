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

  /// Waits up to `timeout` for the process to exit; whether it did.
  func waitForExit(timeout: TimeInterval) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    return !process.isRunning
  }

  /// Ends the process (SIGKILL if it does not stop on SIGTERM within 5 s).
  func stop() {
    guard process.isRunning else { return }
    signal(SIGTERM)
    if !waitForExit(timeout: 5) {
      signal(SIGKILL)
      process.waitUntilExit()
    }
  }

  deinit { stop() }
}

/// A blocking TCP client to 127.0.0.1 for serve tests.
final class TCPClient {
  let fd: Int32

  /// Connects with a small receive buffer (so a client that never reads holds back the
  /// server quickly) and a receive timeout.
  init?(port: Int, receiveBuffer: Int32 = 4096, receiveTimeout: Double = 5) {
    #if canImport(Glibc)
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
      let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { return nil }
    var size = receiveBuffer
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - receiveTimeout.rounded(.down)) * 1e6))
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let status = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard status == 0 else {
      close(fd)
      return nil
    }
    self.fd = fd
  }

  deinit { close(fd) }

  @discardableResult
  func send(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    #if canImport(Glibc)
      let flags = Int32(MSG_NOSIGNAL)
    #else
      let flags: Int32 = 0
    #endif
    return bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, flags) } == bytes.count
  }

  /// Reads until the peer closes, `limit` bytes arrived, or the receive timeout; returns the
  /// bytes and whether the peer closed.
  func read(limit: Int = .max) -> (bytes: [UInt8], closed: Bool) {
    var all: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while all.count < limit {
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count > 0 {
        all += buffer[0..<count]
        continue
      }
      return (all, count == 0 || errno == ECONNRESET)
    }
    return (all, false)
  }

  /// One `GET` on a fresh connection, read to the end (`Connection: close`).
  static func get(port: Int, _ path: String, headers: String = "") -> String? {
    guard let client = TCPClient(port: port, receiveBuffer: 1 << 20) else { return nil }
    guard client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\(headers)\r\n") else { return nil }
    return String(decoding: client.read().bytes, as: UTF8.self)
  }
}
