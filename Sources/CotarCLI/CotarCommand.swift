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
  static func main() async {
    fixAllocatorThresholdForStreaming()
    let sources = installInterruptCleanup()
    await main(nil)
    withExtendedLifetime(sources) {}
  }
}

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
