import ArgumentParser
import CotarCore
import Dispatch

#if canImport(Glibc)
  import Glibc
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
    ]
  )

  /// Runs the command line, removing temporary outputs if SIGINT or SIGTERM interrupts it.
  static func main() async {
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
    _exit(128 + number)
  }
}
