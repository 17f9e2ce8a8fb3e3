import ArgumentParser
import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// ", packing N%" with " (automatic)" when the builder chose it, for summary lines.
func packingSummary(_ stats: IndexBuildStats) -> String {
  let value = stats.packing == stats.packing.rounded() ? String(Int(stats.packing)) : String(stats.packing)
  return ", packing \(value)%" + (stats.automaticPacking ? " (automatic)" : "")
}

/// Writes text to standard error.
func printError(_ text: String) {
  // A member name inside a message must not reach the terminal as an escape sequence: every
  // C0 control but newline and tab, and DEL, is shown as GNU tar does (`\033`).
  var line = String(
    decoding: text.utf8.flatMap { byte -> [UInt8] in
      byte == 0x0A || byte == 0x09 || (byte >= 0x20 && byte != 0x7F) ? [byte] : escapedName([byte])
    }, as: UTF8.self)
  if !line.hasSuffix("\n") { line += "\n" }
  writeStandardError(line)
}

/// Writes text to standard error without buffering.
func writeStandardError(_ text: String) {
  try? Syscall.write(2, Array(text.utf8)[...])
}

/// Writes raw bytes to standard output.
func writeStandardOutput(_ bytes: [UInt8]) throws {
  do {
    try Syscall.write(1, bytes[...])
  } catch {
    throw error.cotarError("cannot write to standard output")
  }
}

/// Whether standard error is a terminal (progress is shown only then).
var standardErrorIsTerminal: Bool { isatty(2) == 1 }

/// A progress printer for long scans; silent when stderr is not a terminal.
func scanProgressPrinter(_ label: String) -> ((ScanProgress) -> Void)? {
  guard standardErrorIsTerminal else { return nil }
  let start = ContinuousClock.now
  return { progress in
    let seconds = max(0.001, Double((ContinuousClock.now - start).components.attoseconds) / 1e18
      + Double((ContinuousClock.now - start).components.seconds))
    let rate = Int(Double(progress.members) / seconds)
    writeStandardError("\r\(label): \(progress.members) members, \(progress.offset >> 20) MiB, \(rate) members/s")
  }
}

/// Ends a progress line if one was drawn.
func endProgressLine(_ printer: ((ScanProgress) -> Void)?) {
  if printer != nil { writeStandardError("\r\u{1B}[K") }
}

/// Raw bytes of a command-line argument, recovered from `argv` when the argument is not
/// valid UTF-8 (Swift decodes arguments lossily), so such paths can still be looked up.
func rawArgumentBytes(_ argument: String) -> [UInt8] {
  for index in 0..<Int(CommandLine.argc) {
    guard let pointer = CommandLine.unsafeArgv[index] else { continue }
    let length = strlen(pointer)
    let bytes = pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    if String(decoding: bytes, as: UTF8.self) == argument { return bytes }
  }
  return Array(argument.utf8)
}

/// Where temporary files go: `$TMPDIR`, or `/tmp` when it is unset or empty.
func temporaryDirectory() -> String {
  getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
}
