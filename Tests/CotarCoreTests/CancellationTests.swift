import CotarCore
import CotarTestSupport
import Synchronization
import Testing

/// A source that serves `bytes` and cancels `task` (once set) on its first read, so the
/// cancellation lands while an operation is in progress, with no timing involved.
final class CancellingSource: RangeSource {
  let inner: MemorySource
  let trigger = CancellationTrigger()
  var identity: String { "cancelling" }

  init(_ bytes: [UInt8]) { inner = MemorySource(bytes, identity: "cancelling") }

  func size() async throws -> UInt64 { try await inner.size() }

  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    trigger.fire()
    return try await inner.read(range)
  }
}

/// Cancels the current task the first time it fires.
final class CancellationTrigger: Sendable {
  private let fired = Mutex(false)

  func fire() {
    let first = fired.withLock { fired in
      defer { fired = true }
      return !fired
    }
    if first { withUnsafeCurrentTask { $0?.cancel() } }
  }
}

@Suite("Cancellation")
struct CancellationTests {
  @Test("A cancelled scan stops at its next read with CancellationError")
  func scanStops() async throws {
    let tar = try await TestArchive.make(count: 20_000).tar
    let source = CancellingSource(tar)
    var options = TarScanner.Options()
    options.readAheadBytes = 64 << 10
    let scanner = TarScanner(source: source, options: options)
    let task = Task {
      var members = 0
      do {
        _ = try await scanner.scan { _ in members += 1 }
      } catch is CancellationError {
        return members
      }
      return -1
    }
    let members = try await task.value
    #expect(members >= 0, "the scan ran to the end")
    #expect(members < 20_000)
  }

  @Test("A cancelled index build throws CancellationError, not a partial index")
  func buildStops() async throws {
    let source = CancellingSource(try await TestArchive.make(count: 20_000).tar)
    var options = TarScanner.Options()
    options.readAheadBytes = 64 << 10
    let task = Task { try await CotarIndexBuilder.build(tar: source, scanOptions: options) }
    await #expect(throws: CancellationError.self) { _ = try await task.value }
  }

  @Test("A cancelled batch read stops starting new reads")
  func batchStops() async throws {
    let archive = try await TestArchive.make(count: 2_000)
    let source = CountingSource(MemorySource(archive.combined, identity: "batch"))
    let cotar = try await Cotar.open(source)
    let paths = archive.files.map(\.path)
    let task = Task {
      withUnsafeCurrentTask { $0?.cancel() }
      return try await cotar.read(paths: paths, options: BatchReadOptions(lookupConcurrency: 2, readConcurrency: 2, coalesceGap: 0))
    }
    await #expect(throws: CancellationError.self) { _ = try await task.value }
    #expect(source.counts.reads < paths.count)
  }
}
