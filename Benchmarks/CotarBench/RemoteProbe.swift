import AsyncHTTPClient
import CotarCore
import CotarHTTP
import CotarTestSupport

/// Cold, warm and hot lookups, one at a time, with the requests the server saw for each.
///
/// * **cold**: a fresh `HTTPRangeSource` and `Cotar.open` (default options), then one
///   `read(path)`: the suffix read at open, the path's index window, the data.
/// * **warm**: the same `Cotar` value, a second path whose window is neither in the suffix
///   read at open nor in a cache block the cold lookup loaded (picked with
///   ``RemoteGeometry``): window + data.
/// * **hot**: the warm path again; its window block is now cached: data only.
///
/// When the whole index fits in the suffix read at open (small archives), no path has a
/// window to fetch: cold is then open + data and warm and hot are data only.
struct RemoteProbe {
  /// The two paths of one trial.
  struct Trial {
    /// Looked up first, right after open.
    var cold: CorpusEntry
    /// Looked up second (warm), then again (hot).
    var warm: CorpusEntry
  }

  /// Per-lookup figures of one repetition (means over its trials; latency: median).
  struct Sample {
    /// Requests per lookup, counted by the server.
    var requests: Double
    /// Response body bytes per lookup, counted by the source.
    var bytes: Double
    /// Median wall-clock latency of one lookup, in milliseconds.
    var milliseconds: Double
  }

  /// The cold, warm and hot samples of one repetition.
  typealias Samples = (cold: Sample, warm: Sample, hot: Sample)

  /// The archive URL on the server.
  var url: String
  /// The server (its request log is the count).
  var server: RangeServer
  /// The shared client.
  var client: HTTPClient
  /// Source settings (bounded timeout, no retries, so counts are exact).
  var configuration: HTTPRangeSourceConfiguration

  /// Picks `count` trials from the corpus with a seeded generator.
  ///
  /// - Throws: `BenchError` when no suitable paths are found (an archive too small).
  static func trials(corpus: Corpus, geometry: RemoteGeometry, count: Int) throws -> [Trial] {
    var random = SplitMix64(seed: corpus.seed ^ 0x2E40_7E00_C01D_0000)
    func pick(avoiding blocks: ClosedRange<UInt64>?) -> CorpusEntry? {
      for _ in 0..<10_000 {
        let entry = corpus.entries[Int(random.next() % UInt64(corpus.entries.count))]
        if geometry.fullyResident { return entry }
        guard let window = geometry.window(entry.path), !geometry.isInSpeculativeRead(window) else { continue }
        if let blocks, blocks.overlaps(geometry.blocks(window)) { continue }
        return entry
      }
      return nil
    }
    return try (0..<count).map { _ in
      guard let cold = pick(avoiding: nil),
        let warm = pick(avoiding: geometry.fullyResident ? nil : geometry.window(cold.path).map(geometry.blocks))
      else { throw BenchError("no path with an uncached index window found") }
      return Trial(cold: cold, warm: warm)
    }
  }

  /// Runs the trials and returns the cold, warm and hot samples.
  ///
  /// - Throws: `BenchError` when a read returns the wrong bytes or the source's request count
  ///   disagrees with the server's; HTTP errors.
  func run(_ trials: [Trial]) async throws -> Samples {
    var requests = [[Double]](repeating: [], count: 3)
    var bytes = [[Double]](repeating: [], count: 3)
    var times = [[Double]](repeating: [], count: 3)
    let clock = ContinuousClock()
    for trial in trials {
      let source = try HTTPRangeSource(url: url, client: client, configuration: configuration)
      let firstRequest = server.requestCount
      var seenRequests = firstRequest
      var seenBytes: UInt64 = 0
      /// Records the requests, bytes and time of the step just done.
      func record(_ kind: Int, since start: ContinuousClock.Instant) {
        let now = clock.now
        let count = server.requestCount
        let received = source.statistics.bytes
        requests[kind].append(Double(count - seenRequests))
        bytes[kind].append(Double(received - seenBytes))
        times[kind].append((now - start).seconds * 1000)
        (seenRequests, seenBytes) = (count, received)
      }
      var start = clock.now
      let archive = try await Cotar.open(source)
      try await Self.check(archive, trial.cold)
      record(0, since: start)
      start = clock.now
      try await Self.check(archive, trial.warm)
      record(1, since: start)
      start = clock.now
      try await Self.check(archive, trial.warm)
      record(2, since: start)
      let counted = source.statistics.requests
      guard counted == seenRequests - firstRequest else {
        throw BenchError("the source counted \(counted) requests, the server \(seenRequests - firstRequest)")
      }
    }
    func sample(_ kind: Int) -> Sample {
      Sample(
        requests: mean(requests[kind]), bytes: mean(bytes[kind]), milliseconds: RemoteRunner.quantile(times[kind], 0.5))
    }
    return (sample(0), sample(1), sample(2))
  }

  /// Reads `entry` and checks its size.
  static func check(_ archive: Cotar, _ entry: CorpusEntry) async throws {
    guard let bytes = try await archive.read(entry.path), bytes.count == entry.size else {
      throw BenchError("remote lookup of \(entry.path) did not return its \(entry.size) bytes")
    }
  }

  private func mean(_ values: [Double]) -> Double {
    values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
  }
}
