import ArgumentParser
import CotarCore
import CotarWriter
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The `cotar` command: build, inspect and read cloud-optimised tar archives.
@main
struct CotarCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cotar",
    abstract: "Cloud optimised tar: a hash index that finds any file in a tar with a few range reads.",
    version: "0.1.0",
    subcommands: [
      DemoCommand.self, IndexCommand.self, CreateCommand.self, GetCommand.self, ListCommand.self,
      InfoCommand.self, ValidateCommand.self, TarCommand.self, AppendCommand.self, PackCommand.self,
      ServeCommand.self, StatCommand.self, ExtractCommand.self,
    ]
  )

  /// Runs the command line, removing temporary outputs if SIGINT or SIGTERM interrupts it.
  /// Every error, the command's own and ArgumentParser's (validation, unknown options), is
  /// printed with the one prefix `cotar:` (see ``exitReporting(_:)``).
  static func main() async {
    fixAllocatorThresholdForStreaming()
    let sources = installInterruptCleanup()
    do {
      var command = try parseAsRoot(nil)
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      exitReporting(error)
    }
    withExtendedLifetime(sources) {}
  }

  /// Prints `error` as ArgumentParser would (help and version to standard output), but with
  /// `cotar:` instead of ArgumentParser's `Error:` prefix, then exits with its code.
  static func exitReporting(_ error: any Error) -> Never {
    let code = exitCode(for: error)
    let text = uniformMessage(fullMessage(for: error))
    if code == .success {
      if !text.isEmpty { try? writeStandardOutputText(text + "\n") }
    } else if !text.isEmpty {
      printError(text)
    }
    terminate(code.rawValue)
  }

  /// `message` with a leading `Error: ` replaced by `cotar: `.
  static func uniformMessage(_ message: String) -> String {
    message.hasPrefix("Error: ") ? "cotar: " + message.dropFirst("Error: ".count) : message
  }
}

/// Ends the process with `status`.
private func terminate(_ status: Int32) -> Never { exit(status) }

/// Writes text to standard output.
private func writeStandardOutputText(_ text: String) throws { try writeStandardOutput(Array(text.utf8)) }

/// Makes SIGINT and SIGTERM remove pending temporary outputs, then exit with 128 + signal.
private func installInterruptCleanup() -> [any DispatchSourceSignal] {
  [SIGINT, SIGTERM].map { number in
    signal(number, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
    source.setEventHandler(handler: interruptHandler(number))
    source.resume()
    return source
  }
}

private func interruptHandler(_ number: Int32) -> @Sendable () -> Void {
  {
    AtomicFileWriter.removePendingTemporaryFiles()
    if !InterruptPolicy.isHandledByCommand { _exit(128 + number) }
  }
}

/// Whether SIGINT and SIGTERM end the process at once (the default) or are left to a
/// command that shuts down gracefully by itself (`serve`, through its service group).
enum InterruptPolicy {
  private static let handledByCommand = Atomic<Bool>(false)

  /// Leaves SIGINT and SIGTERM to the running command.
  static func handOverToCommand() { handledByCommand.store(true, ordering: .relaxed) }

  /// Whether the running command handles SIGINT and SIGTERM itself.
  static var isHandledByCommand: Bool { handledByCommand.load(ordering: .relaxed) }
}
