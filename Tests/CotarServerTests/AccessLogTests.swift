import Dispatch
import CotarTestSupport
import Foundation
import HTTPTypes
import Testing

@testable import CotarServer

/// The buffered, thread-sharded access log: every line arrives whole, once, with its
/// timestamp, whichever thread wrote it.
@Suite("Access log")
struct AccessLogTests {
  /// Appends `lines` per thread from `threads` threads at once, flushes, and returns what
  /// reached the file.
  static func written(threads: Int, lines: Int) throws -> [Substring] {
    let path = ScratchSpace.path("cotar-access", suffix: ".log")
    #expect(FileManager.default.createFile(atPath: path, contents: nil))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let handle = try #require(FileHandle(forWritingAtPath: path))
    defer { try? handle.close() }
    let log = AccessLog(descriptor: handle.fileDescriptor)
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
      for line in 0..<lines { log.append("GET /t/\(thread)/\(line) 200 1 0.001ms") }
    }
    log.flush()
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.hasSuffix("\n"))
    return text.split(separator: "\n")
  }

  @Test("Lines from many threads all arrive, whole and once, each with its timestamp")
  func concurrentLines() throws {
    let threads = 6
    let lines = 3000  // several 32 KiB flushes per thread
    let written = try Self.written(threads: threads, lines: lines)
    #expect(written.count == threads * lines)
    var seen = Set<Substring>()
    let stamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z cotar\.serve (GET \/t\/\d+\/\d+ 200 1 0\.001ms)$/
    for line in written {
      let match = try #require(line.wholeMatch(of: stamp), "malformed line: \(line)")
      #expect(seen.insert(match.1).inserted, "line twice: \(line)")
    }
    for thread in 0..<threads {
      for line in [0, lines / 2, lines - 1] { #expect(seen.contains("GET /t/\(thread)/\(line) 200 1 0.001ms")) }
    }
  }

  @Test("A request's line gives its duration in milliseconds with three decimals")
  func durationFormat() throws {
    let path = ScratchSpace.path("cotar-access", suffix: ".log")
    #expect(FileManager.default.createFile(atPath: path, contents: nil))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let handle = try #require(FileHandle(forWritingAtPath: path))
    let log = AccessLog(descriptor: handle.fileDescriptor)
    let start = ContinuousClock.now - .milliseconds(1234)
    CotarResponder.logLine(log, method: .get, path: "/v1/file/a.txt", status: 200, bytes: 6, start: start, failure: nil)
    log.flush()
    try handle.close()
    let line = try String(contentsOfFile: path, encoding: .utf8)
    let match = try #require(line.firstMatch(of: /cotar\.serve GET \/v1\/file\/a\.txt 200 6 (\d+)\.(\d{3})ms\n$/))
    let milliseconds = try #require(Int(match.1))
    #expect(milliseconds >= 1234 && milliseconds < 60_000)
  }
}
