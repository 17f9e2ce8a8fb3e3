import CotarCore
import CotarTestSupport
import Foundation
import Synchronization
import Testing

/// Counts the bytes a stream holds: every read adds its range when it starts, the consumer
/// subtracts what it has finished with. The peak of the difference is the memory the stream
/// needed, measured from outside, whatever the implementation does inside.
final class InFlightMeter: Sendable {
  private struct State {
    var held = 0
    var peak = 0
    var reads = 0
    var concurrent = 0
    var peakConcurrent = 0
    var cancelledReads = 0
  }
  private let state = Mutex(State())

  func readStarted(_ count: Int) {
    state.withLock {
      $0.held += count
      $0.peak = max($0.peak, $0.held)
      $0.reads += 1
      $0.concurrent += 1
      $0.peakConcurrent = max($0.peakConcurrent, $0.concurrent)
    }
  }

  func readEnded(cancelled: Bool) {
    state.withLock {
      $0.concurrent -= 1
      if cancelled { $0.cancelledReads += 1 }
    }
  }

  func consumed(_ count: Int) { state.withLock { $0.held -= count } }

  /// Forgets what came before (the open's reads), keeping the read count.
  func reset() {
    state.withLock {
      $0.held = 0
      $0.peak = 0
      $0.peakConcurrent = 0
    }
  }

  var peak: Int { state.withLock { $0.peak } }
  var reads: Int { state.withLock { $0.reads } }
  var peakConcurrent: Int { state.withLock { $0.peakConcurrent } }
  var cancelledReads: Int { state.withLock { $0.cancelledReads } }
}

/// A remote-like source (not synchronous) over memory: each read suspends, so reads overlap;
/// reads of pieces past `stallAfter` bytes wait until cancelled.
final class MeteredRemoteSource: RangeSource {
  let inner: MemorySource
  let meter = InFlightMeter()
  let stallAfter: UInt64?
  var identity: String { "metered-remote" }

  init(_ bytes: [UInt8], stallAfter: UInt64? = nil) {
    inner = MemorySource(bytes, identity: "metered-remote")
    self.stallAfter = stallAfter
  }

  func size() async throws -> UInt64 { try await inner.size() }

  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    meter.readStarted(range.count)
    do {
      if let stallAfter, range.lowerBound >= stallAfter {
        try await Task.sleep(for: .seconds(120))
      } else {
        try await Task.sleep(for: .milliseconds(1))
      }
    } catch {
      meter.readEnded(cancelled: true)
      throw error
    }
    meter.readEnded(cancelled: false)
    return try await inner.read(range)
  }
}

/// A local source (synchronous) over memory, metered the same way.
final class MeteredLocalSource: SynchronousRangeSource {
  let inner: MemorySource
  let meter = InFlightMeter()
  var identity: String { "metered-local" }

  init(_ bytes: [UInt8]) { inner = MemorySource(bytes, identity: "metered-local") }

  func size() async throws -> UInt64 { try await inner.size() }

  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    meter.readStarted(range.count)
    defer { meter.readEnded(cancelled: false) }
    return try await inner.read(range)
  }

  func readSync(_ range: Range<UInt64>, into buffer: UnsafeMutableRawBufferPointer) throws {
    try inner.readSync(range, into: buffer)
  }
}

/// A sink that checks the bytes against the expected ones as they arrive and reports each
/// chunk as consumed, holding nothing itself.
struct CheckingSink: ByteSink {
  let expected: [UInt8]
  let meter: InFlightMeter
  var position = 0
  var mismatch: Int?

  mutating func write(_ chunk: [UInt8]) async throws {
    if mismatch == nil, expected[position..<(position + chunk.count)].elementsEqual(chunk) == false {
      mismatch = position
    }
    position += chunk.count
    meter.consumed(chunk.count)
  }
}

/// A 12 MiB entry (a pattern no chunk boundary can hide) between two small files.
private func largeArchive(size: Int = 12 << 20) async throws -> (combined: [UInt8], big: [UInt8]) {
  var generator = SplitMix64(seed: 19)
  var big = [UInt8](repeating: 0, count: size)
  for index in stride(from: 0, to: size, by: 8) {
    let word = generator.next()
    for byte in 0..<min(8, size - index) { big[index + byte] = UInt8(truncatingIfNeeded: word >> (8 * byte)) }
  }
  let tar = TarBytes.make([("a.txt", Array("first".utf8)), ("big.bin", big), ("z.txt", Array("last".utf8))])
  let built = try await CotarIndexBuilder.build(tar: MemorySource(tar))
  return (tar + built.index.bytes, big)
}

@Suite("Streaming reads")
struct StreamingTests {
  @Test("A remote entry 3× larger than the stream's bound is streamed exactly within the bound, reads overlapping")
  func remoteBounded() async throws {
    let (combined, big) = try await largeArchive()
    let source = MeteredRemoteSource(combined)
    let cotar = try await Cotar.open(source)
    let options = StreamOptions(chunkSize: 256 << 10, partSize: 1 << 20, partsInFlight: 3)
    let bound = options.maximumBufferedBytes(local: false)
    #expect(bound * 3 <= big.count)
    guard let entry = try await cotar.entry("big.bin") else {
      Issue.record("big.bin not found")
      return
    }
    var sink = CheckingSink(expected: big, meter: source.meter)
    source.meter.reset()
    let opened = source.meter.reads
    try await cotar.read(entry, to: &sink, options: options)
    #expect(sink.position == big.count)
    #expect(sink.mismatch == nil)
    #expect(source.meter.peak <= bound, "held \(source.meter.peak) bytes, bound \(bound)")
    #expect(source.meter.peakConcurrent >= 2, "remote parts must overlap")
    #expect(source.meter.peakConcurrent <= options.partsInFlight)
    #expect(source.meter.reads - opened == options.plan(entry.range, local: false).count)
  }

  @Test("A local entry larger than its bound is read in fixed chunks, one ahead of the consumer")
  func localBounded() async throws {
    let (combined, big) = try await largeArchive()
    let source = MeteredLocalSource(combined)
    let cotar = try await Cotar.open(source)
    let options = StreamOptions(chunkSize: 512 << 10)
    let bound = options.maximumBufferedBytes(local: true)
    guard let entry = try await cotar.entry("big.bin") else {
      Issue.record("big.bin not found")
      return
    }
    var sink = CheckingSink(expected: big, meter: source.meter)
    source.meter.reset()
    let opened = source.meter.reads
    try await cotar.read(entry, to: &sink, options: options)
    #expect(sink.position == big.count && sink.mismatch == nil)
    #expect(source.meter.peak <= bound, "held \(source.meter.peak) bytes, bound \(bound)")
    #expect(source.meter.reads - opened == (big.count + (512 << 10) - 1) / (512 << 10))
  }

  @Test("Plans cover the range exactly: fixed local chunks, remote parts doubling to the part size")
  func plans() {
    let options = StreamOptions(chunkSize: 100, partSize: 350, partsInFlight: 2)
    let local = options.plan(1000..<1450, local: true)
    #expect(local.map(\.count) == [100, 100, 100, 100, 50])
    let remote = options.plan(1000..<2500, local: false)
    #expect(remote.map(\.count) == [100, 200, 350, 350, 350, 150])
    #expect(remote.first?.lowerBound == 1000 && remote.last?.upperBound == 2500)
    #expect(options.plan(5..<5, local: false).isEmpty)
  }

  // The stalled reads never end by themselves: a stream that ignored cancellation would hang
  // until the time limit. No wall-clock bound inside: the machine may be loaded.
  @Test("Cancelling the consumer stops the stream at once and cancels the reads in flight", .timeLimit(.minutes(5)))
  func cancellation() async throws {
    let (combined, big) = try await largeArchive()
    let cotar = try await Cotar.open(MemorySource(combined))
    guard let entry = try await cotar.entry("big.bin") else {
      Issue.record("big.bin not found")
      return
    }
    // Every read but the first stalls until cancelled.
    let source = MeteredRemoteSource(combined, stallAfter: entry.offset + 1)
    let remote = Cotar(index: cotar.index, data: source, dataLimit: cotar.dataLimit)
    let options = StreamOptions(chunkSize: 64 << 10, partSize: 256 << 10, partsInFlight: 4)
    let task = Task { () -> (Int, (any Error)?) in
      var received = 0
      do {
        for try await chunk in remote.chunks(of: entry, options: options) {
          received += chunk.count
          withUnsafeCurrentTask { $0?.cancel() }
        }
      } catch {
        return (received, error)
      }
      return (received, nil)
    }
    let (received, error) = await task.value
    #expect(received == 64 << 10)
    #expect(error is CancellationError)
    #expect(big.count > received)
    // The reads in flight were cancelled, not left to finish.
    for _ in 0..<500 where source.meter.cancelledReads < options.partsInFlight {
      try await Task.sleep(for: .milliseconds(10))
    }
    #expect(source.meter.cancelledReads == options.partsInFlight)
  }

  @Test("Leaving a stream early (break) cancels its reads in flight")
  func droppedIterator() async throws {
    let (combined, _) = try await largeArchive()
    let cotar = try await Cotar.open(MemorySource(combined))
    guard let entry = try await cotar.entry("big.bin") else {
      Issue.record("big.bin not found")
      return
    }
    let source = MeteredRemoteSource(combined, stallAfter: entry.offset + 1)
    let remote = Cotar(index: cotar.index, data: source, dataLimit: cotar.dataLimit)
    let options = StreamOptions(chunkSize: 64 << 10, partSize: 256 << 10, partsInFlight: 3)
    for try await _ in remote.chunks(of: entry, options: options) { break }
    for _ in 0..<500 where source.meter.cancelledReads < options.partsInFlight {
      try await Task.sleep(for: .milliseconds(10))
    }
    #expect(source.meter.cancelledReads == options.partsInFlight)
  }

  @Test("A failed read ends the stream with its error code and cancels the other reads")
  func failedRead() async throws {
    let (combined, _) = try await largeArchive()
    let cotar = try await Cotar.open(MemorySource(combined))
    guard let entry = try await cotar.entry("big.bin") else {
      Issue.record("big.bin not found")
      return
    }
    // The data source ends 1 MiB into the entry: a truncated copy of the archive.
    let cut = Array(combined[..<Int(entry.offset + (1 << 20))])
    let remote = Cotar(index: cotar.index, data: MeteredRemoteSource(cut), dataLimit: nil)
    var sink = CheckingSink(expected: Array(combined[Int(entry.offset)..<Int(entry.offset + entry.size)]), meter: InFlightMeter())
    let error = await #expect(throws: CotarError.self) {
      try await remote.read(entry, to: &sink, options: StreamOptions(chunkSize: 256 << 10, partSize: 512 << 10))
    }
    #expect(error?.code == .truncated)
    #expect(sink.mismatch == nil)
    #expect(sink.position <= 1 << 20)
  }

  @Test("A local file is copied to a local file by the kernel, bytes exact, counted in --stats")
  func kernelCopy() async throws {
    let (combined, big) = try await largeArchive()
    let directory = try ScratchSpace.directory("cotar-stream")
    defer { try? FileManager.default.removeItem(at: directory) }
    let archivePath = directory.appendingPathComponent("big.tar.co").path
    try Data(combined).write(to: URL(fileURLWithPath: archivePath))
    let counting = CountingSource(try FileSource(path: archivePath))
    let cotar = try await Cotar.open(counting)
    counting.reset()
    let outputPath = directory.appendingPathComponent("out.bin").path
    let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    #expect(fd >= 0)
    _ = write(fd, "head", 4)  // the copy goes at the descriptor's position
    var reported: [UInt64] = []
    let entry = try await cotar.read("big.bin", toFileDescriptor: fd, options: StreamOptions(partSize: 4 << 20)) {
      reported.append($0)
    }
    close(fd)
    #expect(entry?.size == UInt64(big.count))
    let written = [UInt8](try Data(contentsOf: URL(fileURLWithPath: outputPath)))
    #expect(written == Array("head".utf8) + big)
    #expect(reported.last == UInt64(big.count))
    #expect(reported.count >= 3)
    #expect(counting.counts.bytes == UInt64(big.count))
    #if os(Linux)
      let second = open(outputPath, O_WRONLY | O_TRUNC)
      defer { close(second) }
      let method = try await cotar.read(try #require(entry), toFileDescriptor: second)
      #expect(method == .copyFileRange)
    #endif
  }

  @Test("A tar cut short inside an entry fails the kernel copy with .truncated")
  func kernelCopyTruncated() async throws {
    let (combined, _) = try await largeArchive()
    let located = try await Cotar.open(MemorySource(combined))
    guard let entry = try await located.entry("big.bin") else {
      Issue.record("big.bin not found")
      return
    }
    let directory = try ScratchSpace.directory("cotar-stream")
    defer { try? FileManager.default.removeItem(at: directory) }
    let tarPath = directory.appendingPathComponent("cut.tar").path
    try Data(combined[..<Int(entry.offset + 3_000_000)]).write(to: URL(fileURLWithPath: tarPath))
    let cotar = Cotar(index: located.index, data: try FileSource(path: tarPath), dataLimit: nil)
    let outputPath = directory.appendingPathComponent("out.bin").path
    let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    defer { close(fd) }
    let error = await #expect(throws: CotarError.self) { try await cotar.read(entry, toFileDescriptor: fd) }
    #expect(error?.code == .truncated)
    #expect(error?.offset == entry.offset + 3_000_000)
  }

  @Test("chunks(of:) of an absent path is nil; of an empty entry yields nothing")
  func absentAndEmpty() async throws {
    var tar = TestTar()
    tar.add("empty", [])
    tar.add("one", "1")
    let bytes = tar.finished
    let built = try await CotarIndexBuilder.build(tar: MemorySource(bytes))
    let cotar = try await Cotar.open(MemorySource(bytes + built.index.bytes))
    #expect(try await cotar.chunks(of: "missing") == nil)
    var count = 0
    for try await _ in try #require(try await cotar.chunks(of: "empty")) { count += 1 }
    #expect(count == 0)
    var all: [UInt8] = []
    for try await chunk in try #require(try await cotar.chunks(of: "one")) { all += chunk }
    #expect(all == Array("1".utf8))
  }
}
