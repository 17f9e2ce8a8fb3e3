import CotarCore
#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The outcome of a child process run by ``Spawn/run(_:_:captureOutput:)``.
struct ChildResult {
  /// Exit status (or 128 + signal number).
  var status: Int32
  /// Wall-clock seconds from spawn to exit.
  var seconds: Double
  /// Peak resident set size of the child in bytes (`ru_maxrss` from `wait4`).
  var peakRSSBytes: UInt64
  /// Standard output, when captured; otherwise empty (it went to `/dev/null`).
  var output: String
}

/// Spawning child processes with `posix_spawnp` and collecting their resource usage.
enum Spawn {
  /// The path of the running executable (to re-run the bench in a child mode).
  static func currentExecutable() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return CommandLine.arguments.first ?? "cotar-bench" }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Whether `program` is found on `PATH` (or is an executable path).
  static func isAvailable(_ program: String) -> Bool {
    if program.contains("/") { return access(program, X_OK) == 0 }
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
    return path.split(separator: ":").contains { access("\($0)/\(program)", X_OK) == 0 }
  }

  /// Runs `program` with `arguments`, waits for it and returns its status, time and peak RSS.
  ///
  /// Standard error is inherited; standard output is captured or sent to `/dev/null`.
  /// - Throws: `BenchError` when the process cannot be spawned.
  static func run(_ program: String, _ arguments: [String], captureOutput: Bool = false) throws -> ChildResult {
    var pipeEnds: [Int32] = [-1, -1]
    if captureOutput {
      guard pipe(&pipeEnds) == 0 else { throw BenchError.system("pipe", program) }
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if captureOutput {
      posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
      posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
      posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
    } else {
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    let clock = ContinuousClock()
    let start = clock.now
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, program, &actions, nil, argv, environ)
    if captureOutput { close(pipeEnds[1]) }
    guard spawned == 0 else {
      if captureOutput { close(pipeEnds[0]) }
      errno = spawned
      throw BenchError.system("spawn", program)
    }
    var output: [UInt8] = []
    if captureOutput {
      output = (try? Syscall.readToEnd(pipeEnds[0])) ?? []
      close(pipeEnds[0])
    }
    var status: Int32 = 0
    var usage = rusage()
    guard (try? Syscall.retryingInterrupts("wait4", { wait4(pid, &status, 0, &usage) })) != nil else {
      throw BenchError.system("wait4", program)
    }
    let seconds = (clock.now - start).seconds
    let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return ChildResult(
      status: exitStatus, seconds: seconds, peakRSSBytes: UInt64(max(0, usage.ru_maxrss)) * 1024,
      output: String(decoding: output, as: UTF8.self))
  }
}
