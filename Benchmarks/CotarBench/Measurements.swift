#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// One measured figure: the value of each repetition, summarised by median, min and max.
struct Figure {
  /// Dotted JSON key, `section.name` (for example `build.cotar_entries_per_s`).
  var key: String
  /// Row label in the table.
  var label: String
  /// Unit shown in the table (`entries/s`, `B/entry`, …).
  var unit: String
  /// One value per repetition, in run order.
  var samples: [Double]

  /// The median of the samples (mean of the middle two for an even count); 0 when empty.
  var median: Double {
    let sorted = samples.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
  }

  /// The smallest sample; 0 when empty.
  var min: Double { samples.min() ?? 0 }
  /// The largest sample; 0 when empty.
  var max: Double { samples.max() ?? 0 }
}

/// A quotient of two figures' medians, with the target it is checked against, if any.
struct Ratio {
  /// Dotted JSON key (for example `build.cotar_over_limit`).
  var key: String
  /// Row label in the table.
  var label: String
  /// The quotient.
  var value: Double
  /// The minimum the issue asks for; `nil` when there is no target.
  var target: Double?

  /// Whether the target is met (true when there is none).
  var meetsTarget: Bool { target.map { value >= $0 } ?? true }
}

/// What the bench's times measure (`--clock`).
enum BenchClock: String, Sendable {
  /// Elapsed wall time (`CLOCK_MONOTONIC`): what a user waits.
  case wall
  /// CPU time, user plus system, of the bench and of its waited-for children
  /// (`getrusage`): what the work costs, unaffected by time spent waiting for a CPU on a
  /// shared machine.
  case cpu

  /// Seconds since an arbitrary origin.
  func now() -> Double {
    switch self {
    case .wall:
      var time = timespec()
      clock_gettime(CLOCK_MONOTONIC, &time)
      return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    case .cpu:
      var own = rusage()
      var children = rusage()
      getrusage(RUSAGE_SELF.rawValue, &own)
      getrusage(RUSAGE_CHILDREN.rawValue, &children)
      return [own.ru_utime, own.ru_stime, children.ru_utime, children.ru_stime].reduce(0) {
        $0 + Double($1.tv_sec) + Double($1.tv_usec) * 1e-6
      }
    }
  }
}

/// Timing helpers.
struct Stopwatch {
  /// The clock read around each run.
  var clock: BenchClock

  /// Seconds taken by `body`.
  func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = clock.now()
    try await body()
    return clock.now() - start
  }

  /// Runs each of `bodies` once untimed, then `repetitions` rounds in which every body runs
  /// once, in turn, and returns `work / seconds` per body and round.
  ///
  /// Interleaving puts the contenders of a ratio under the same conditions: on a shared
  /// machine a burst of load slows one round of all of them, not all rounds of one.
  ///
  /// `beforeEach`, when given, runs untimed before every timed run (and every warm-up), so
  /// that each contender starts from the same state whatever ran before it in the round
  /// (see ``CacheEvictor``).
  func interleavedRates(
    repetitions: Int, work: [Double], beforeEach: (() -> Void)? = nil, _ bodies: [() async throws -> Void]
  ) async throws -> [[Double]] {
    for body in bodies {
      beforeEach?()
      try await body()
    }
    var rates = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<repetitions {
      for (index, body) in bodies.enumerated() {
        beforeEach?()
        rates[index].append(work[index] / (try await seconds(body)))
      }
    }
    return rates
  }
}

extension Duration {
  /// The duration in seconds as a `Double`.
  var seconds: Double {
    let parts = components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
  }
}

/// Puts the CPU caches in the same state before every contender of a lookup round.
///
/// The contenders of section 2 read the same 10,000 ranges (about 21 MB of file data) in the
/// same order, and the machine's last-level cache (32 MiB here) holds much of what the
/// previous contender touched. Without eviction a contender that runs right after one that
/// read the same ranges into a small buffer finds the data in cache, while one that runs
/// after the batch read (21 MB of fresh arrays) or the linear scan (hundreds of MB) does not:
/// the order of the round, not the code, decided part of each ratio. Reading a buffer twice
/// the size of the largest cache before every run gives every contender, limit included,
/// the same cold start. (Section 2 then touches each contender's inputs again: the paths,
/// and the limit's known ranges.)
final class CacheEvictor {
  /// Bytes read per eviction (64 MiB).
  static let bytes = 64 << 20
  private let buffer: UnsafeMutableRawBufferPointer

  /// Allocates and writes the buffer once (so its pages exist).
  init() {
    buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bytes, alignment: 4096)
    buffer.initializeMemory(as: UInt8.self, repeating: 1)
  }

  deinit { buffer.deallocate() }

  /// Reads one word per cache line of the buffer.
  func evict() {
    var sum: UInt64 = 0
    for offset in stride(from: 0, to: Self.bytes, by: 64) {
      sum &+= buffer.load(fromByteOffset: offset, as: UInt64.self)
    }
    blackHole(Int(truncatingIfNeeded: sum))
  }
}
