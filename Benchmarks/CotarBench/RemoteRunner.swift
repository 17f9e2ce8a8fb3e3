import Synchronization

/// Runs many operations with a bounded number in flight and records each one's latency.
enum RemoteRunner {
  /// What one run produced.
  struct Outcome {
    /// Operations per second (per the bench's clock).
    var rate: Double
    /// Wall-clock latency of every operation, in seconds, unordered.
    var latencies: [Double]
  }

  /// Hands out operation numbers to the workers.
  private final class Counter: Sendable {
    let next = Atomic<Int>(0)
  }

  /// Runs `operation(0..<count)` with at most `concurrency` in flight: a task group of
  /// `concurrency` workers, each taking the next number until none is left.
  ///
  /// - Returns: the rate over the whole run (timed with `stopwatch`) and each latency
  ///   (always wall-clock, whatever the stopwatch measures).
  /// - Throws: the first error of `operation`; the other workers are then cancelled.
  static func run(
    count: Int, concurrency: Int, stopwatch: Stopwatch, _ operation: @escaping @Sendable (Int) async throws -> Void
  ) async throws -> Outcome {
    let counter = Counter()
    var latencies: [Double] = []
    latencies.reserveCapacity(count)
    let seconds = try await stopwatch.seconds {
      try await withThrowingTaskGroup(of: [Double].self) { group in
        for _ in 0..<max(1, min(concurrency, count)) {
          group.addTask {
            let clock = ContinuousClock()
            var own: [Double] = []
            while true {
              let index = counter.next.add(1, ordering: .relaxed).oldValue
              guard index < count else { break }
              let start = clock.now
              try await operation(index)
              own.append((clock.now - start).seconds)
            }
            return own
          }
        }
        for try await own in group { latencies += own }
      }
    }
    return Outcome(rate: Double(count) / seconds, latencies: latencies)
  }

  /// The `fraction` quantile (0…1) of `values` by the nearest-rank method; 0 when empty.
  static func quantile(_ values: [Double], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let rank = Int((fraction * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
  }
}
