import CotarCore
import CotarWriter
import Crypto

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// SHA-256 of a local regular file (raw path bytes), read in 1 MiB chunks.
///
/// - Throws: `CotarError` `.io` when the file cannot be opened or read, is not a regular
///   file, or is not the object `identity` names.
func sha256(ofFile path: [UInt8], identity: FileIdentity? = nil) throws -> [UInt8] {
  let display = String(decoding: path, as: UTF8.self)
  // Never through a symbolic link, never blocking on a FIFO swapped in since the walk.
  let (fd, _) = try TarInputCollector.openListedFile(path, identity: identity, display: display, member: nil)
  defer { Syscall.close(fd) }
  var hasher = SHA256()
  var buffer = [UInt8](repeating: 0, count: 1 << 20)
  while true {
    let count: Int
    do {
      count = try Syscall.read(fd, into: &buffer)
    } catch {
      throw error.cotarError("read failed", source: display)
    }
    if count == 0 { break }
    hasher.update(data: buffer[0..<count])
  }
  return Array(hasher.finalize())
}

/// Lower-case hex SHA-256 of `bytes`.
func sha256Hex(_ bytes: [UInt8]) -> String { hexString(Array(SHA256.hash(data: bytes))) }

/// Lower-case hex of `bytes`.
func hexString(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var text: [UInt8] = []
  text.reserveCapacity(bytes.count * 2)
  for byte in bytes {
    text.append(digits[Int(byte >> 4)])
    text.append(digits[Int(byte & 15)])
  }
  return String(decoding: text, as: UTF8.self)
}

/// A progress printer for writes (files, bytes, rate), drawn at most 5 times a second;
/// `nil` when stderr is not a terminal.
func writeProgressPrinter(_ label: String) -> ((WriteProgress) -> Void)? {
  guard standardErrorIsTerminal else { return nil }
  let start = ContinuousClock.now
  var last = start
  return { progress in
    let now = ContinuousClock.now
    guard now - last >= .milliseconds(200) || progress.members == progress.totalMembers else { return }
    last = now
    let elapsed = now - start
    let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    let rate = Double(progress.bytes) / seconds / 1_048_576
    let rateText = String(Int(rate * 10) / 10) + "." + String(Int(rate * 10) % 10)
    writeStandardError(
      "\r\(label): \(progress.members)/\(progress.totalMembers) files, \(progress.bytes >> 20) MiB, \(rateText) MiB/s\u{1B}[K")
  }
}

/// Ends a write progress line if one was drawn.
func endWriteProgress(_ printer: ((WriteProgress) -> Void)?) {
  if printer != nil { writeStandardError("\r\u{1B}[K") }
}
