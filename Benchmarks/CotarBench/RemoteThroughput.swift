import AsyncHTTPClient
import CotarCore
import CotarHTTP
import NIOCore
import NIOHTTP1

/// Hot lookups per second and their latency at each concurrency, against the limit.
///
/// Contenders, each over the same `lookups` random paths (``LookupBench/workload``):
/// * **hot**: `Cotar.read(path)` on one archive opened once, whose window cache holds the
///   whole index (after the untimed warm-up round every window is cached, so each lookup is
///   one data request);
/// * **source read**: `HTTPRangeSource.read` of the same (offset, size) ranges, known in
///   advance (what the source's checks cost, without a lookup);
/// * **limit**: a raw AsyncHTTPClient GET with only a `Range` header per known range, body
///   collected into the client's buffer.
struct RemoteThroughput {
  /// The concurrencies measured.
  static let concurrencies = [1, 16]
  /// Contender names: JSON key stem and table label.
  static let contenders = [
    ("hot", "Cotar hot lookup+read"), ("source_read", "HTTPRangeSource.read, known"),
    ("limit", "limit: range GET, known"),
  ]

  /// One contender's run: rate and latency quantiles.
  struct Result {
    /// Operations per second.
    var rate: Double
    /// Median latency, milliseconds.
    var p50: Double
    /// 99th-percentile latency, milliseconds.
    var p99: Double
  }

  /// One round: for each concurrency (in ``concurrencies`` order), each contender's result.
  typealias Round = [[Result]]

  private let entries: [CorpusEntry]
  private let url: String
  private let client: HTTPClient
  private let hotSource: HTTPRangeSource
  private let archive: Cotar
  private let plainSource: HTTPRangeSource
  private let stopwatch: Stopwatch
  private let lookups: Int

  /// Opens the hot archive (with a window cache larger than the index) and the plain source.
  ///
  /// - Throws: HTTP errors of the open.
  init(
    corpus: Corpus, url: String, client: HTTPClient, configuration: HTTPRangeSourceConfiguration, lookups: Int,
    indexBytes: UInt64, stopwatch: Stopwatch
  ) async throws {
    entries = LookupBench.workload(corpus: corpus, lookups: lookups, scans: 0).present
    self.url = url
    self.client = client
    self.stopwatch = stopwatch
    self.lookups = lookups
    hotSource = try HTTPRangeSource(url: url, client: client, configuration: configuration)
    let cache = BlockCache(capacityBytes: Int(indexBytes) + (1 << 20))
    archive = try await Cotar.open(hotSource, options: Cotar.OpenOptions(indexCache: cache))
    plainSource = try HTTPRangeSource(url: url, client: client, configuration: configuration)
  }

  /// Requests the hot archive's source has sent so far.
  var hotRequests: Int { hotSource.statistics.requests }

  /// Runs every contender once at every concurrency, in turn.
  ///
  /// - Throws: `BenchError` on wrong bytes or status; HTTP errors.
  func round() async throws -> Round {
    var round: Round = []
    for concurrency in Self.concurrencies {
      var results: [Result] = []
      for operation in [hotLookup, sourceRead, plainGet] {
        let outcome = try await RemoteRunner.run(
          count: lookups, concurrency: concurrency, stopwatch: stopwatch, operation)
        results.append(
          Result(
            rate: outcome.rate, p50: RemoteRunner.quantile(outcome.latencies, 0.5) * 1000,
            p99: RemoteRunner.quantile(outcome.latencies, 0.99) * 1000))
      }
      round.append(results)
    }
    return round
  }

  private var hotLookup: @Sendable (Int) async throws -> Void {
    { [archive, entries] index in try await RemoteProbe.check(archive, entries[index]) }
  }

  private var sourceRead: @Sendable (Int) async throws -> Void {
    { [plainSource, entries] index in
      let entry = entries[index]
      let bytes = try await plainSource.read(entry.dataOffset..<(entry.dataOffset + UInt64(entry.size)))
      guard bytes.count == entry.size else { throw BenchError("short read of \(entry.path)") }
    }
  }

  private var plainGet: @Sendable (Int) async throws -> Void {
    { [client, url, entries] index in
      let entry = entries[index]
      var request = HTTPClientRequest(url: url)
      let last = entry.dataOffset + UInt64(entry.size) - 1
      request.headers.add(name: "Range", value: "bytes=\(entry.dataOffset)-\(last)")
      let response = try await client.execute(request, timeout: .seconds(10))
      let body = try await response.body.collect(upTo: entry.size)
      guard response.status == .partialContent, body.readableBytes == entry.size else {
        throw BenchError("plain range GET of \(entry.path): HTTP \(response.status.code), \(body.readableBytes) bytes")
      }
    }
  }

  /// Rates and latencies of every contender at every concurrency, over `rounds`.
  func figures(_ rounds: [Round]) -> [Figure] {
    var figures: [Figure] = []
    for (position, concurrency) in Self.concurrencies.enumerated() {
      let suffix = Self.suffix(concurrency)
      for (index, (stem, label)) in Self.contenders.enumerated() {
        let results = rounds.map { $0[position][index] }
        figures.append(
          Figure(
            key: "remote.\(stem)_per_s\(suffix)", label: "\(label), c=\(concurrency)",
            unit: stem == "hot" ? "lookups+reads/s" : "reads/s", samples: results.map(\.rate)))
      }
    }
    for (position, concurrency) in Self.concurrencies.enumerated() {
      let suffix = Self.suffix(concurrency)
      for (index, (stem, _)) in Self.contenders.enumerated() where stem != "source_read" {
        let results = rounds.map { $0[position][index] }
        let (prefix, name) = stem == "hot" ? ("", "hot lookup+read") : ("\(stem)_", "limit")
        figures.append(
          Figure(
            key: "remote.\(prefix)p50_ms\(suffix)", label: "p50 \(name), c=\(concurrency)", unit: "ms",
            samples: results.map(\.p50)))
        figures.append(
          Figure(
            key: "remote.\(prefix)p99_ms\(suffix)", label: "p99 \(name), c=\(concurrency)", unit: "ms",
            samples: results.map(\.p99)))
      }
    }
    return figures
  }

  /// Hot over limit (target 0.8) and source read over limit, per concurrency.
  func ratios(_ figures: [Figure]) -> [Ratio] {
    func median(_ key: String) -> Double { figures.first { $0.key == key }?.median ?? .nan }
    var ratios: [Ratio] = []
    for concurrency in Self.concurrencies {
      let suffix = Self.suffix(concurrency)
      let limit = median("remote.limit_per_s\(suffix)")
      ratios.append(
        Ratio(
          key: "remote.hot_over_limit\(suffix)", label: "hot / limit, c=\(concurrency)",
          value: median("remote.hot_per_s\(suffix)") / limit, target: 0.8))
      ratios.append(
        Ratio(
          key: "remote.source_read_over_limit\(suffix)", label: "source read / limit, c=\(concurrency)",
          value: median("remote.source_read_per_s\(suffix)") / limit, target: nil))
    }
    return ratios
  }

  /// How many requests the timed hot lookups cost each (1 when every window was cached).
  func hotRequestsNote(since baseline: Int, rounds: Int) -> String {
    let lookupsDone = lookups * Self.concurrencies.count * rounds
    let perLookup = Double(hotRequests - baseline) / Double(max(1, lookupsDone))
    return "timed hot lookups: \(hotRequests - baseline) requests for \(lookupsDone) lookups "
      + "(\(Report.formatRatio(perLookup).dropLast()) per lookup)"
  }

  /// Key suffix of a concurrency: none for 1, `_cN` otherwise.
  static func suffix(_ concurrency: Int) -> String { concurrency == 1 ? "" : "_c\(concurrency)" }
}
