import AsyncHTTPClient
import CotarCore
import CotarHTTP
import CotarTestSupport
import NIOCore
import NIOHTTP1

/// Batches behind a slow network: `Cotar.read(paths:)` of random entries against the limit
/// of one range GET per known (offset, size), at the same concurrency, with the server
/// delaying every answer by `latency`.
///
/// Every Cotar run opens the archive afresh (untimed, its own window cache), so the timed
/// batch pays for all its index reads; the limit knows every range in advance and does no
/// lookup. Times are wall-clock whatever `--clock` says: the batch mostly waits.
struct RemoteBatch {
  /// The concurrencies measured.
  static let concurrencies = [16, 64]
  /// Entries per batch.
  static let batchSize = 1_000

  private let corpus: Corpus
  private let server: RangeServer
  private let url: String
  private let client: HTTPClient
  private let configuration: HTTPRangeSourceConfiguration
  /// Milliseconds the server waits before each answer.
  let latency: Int

  /// One round: per concurrency, (Cotar seconds, limit seconds, Cotar requests).
  typealias Round = [(cotar: Double, limit: Double, requests: Int)]

  init(
    corpus: Corpus, server: RangeServer, url: String, client: HTTPClient, configuration: HTTPRangeSourceConfiguration,
    latency: Int
  ) {
    self.corpus = corpus
    self.server = server
    self.url = url
    self.client = client
    self.configuration = configuration
    self.latency = latency
  }

  /// Runs both contenders at every concurrency over the batch picked by `seed`.
  ///
  /// - Throws: `BenchError` on wrong bytes; HTTP errors.
  func round(seed: UInt64) async throws -> Round {
    var random = SplitMix64(seed: corpus.seed ^ seed ^ 0xBA7C_4000)
    let batch = (0..<Self.batchSize).map { _ in corpus.entries[Int(random.next() % UInt64(corpus.entries.count))] }
    server.misbehave { $0.latencyMilliseconds = latency }
    defer { server.misbehave { $0.latencyMilliseconds = 0 } }
    var round: Round = []
    for concurrency in Self.concurrencies {
      let source = try HTTPRangeSource(url: url, client: client, configuration: configuration)
      let archive = try await Cotar.open(source)
      let before = source.statistics.requests
      let clock = ContinuousClock()
      let start = clock.now
      let results = try await archive.read(
        paths: batch.map(\.path),
        options: BatchReadOptions(lookupConcurrency: concurrency, readConcurrency: concurrency))
      let cotar = (clock.now - start).seconds
      for (entry, bytes) in zip(batch, results) where bytes?.count != entry.size {
        throw BenchError("batch read of \(entry.path) did not return its \(entry.size) bytes")
      }
      let requests = source.statistics.requests - before
      let limitStart = clock.now
      _ = try await RemoteRunner.run(count: batch.count, concurrency: concurrency, stopwatch: Stopwatch(clock: .wall)) {
        [client, url] index in
        let entry = batch[index]
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Range", value: "bytes=\(entry.dataOffset)-\(entry.dataOffset + UInt64(entry.size) - 1)")
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: entry.size)
        guard response.status == .partialContent, body.readableBytes == entry.size else {
          throw BenchError("plain range GET of \(entry.path): HTTP \(response.status.code)")
        }
      }
      round.append((cotar, (clock.now - limitStart).seconds, requests))
    }
    return round
  }

  /// Times per concurrency and requests of the Cotar batch, over `rounds`.
  func figures(_ rounds: [Round]) -> [Figure] {
    var figures: [Figure] = []
    for (position, concurrency) in Self.concurrencies.enumerated() {
      figures.append(
        Figure(
          key: "remote.batch_ms_c\(concurrency)", label: "Cotar.read(paths:) \(Self.batchSize), c=\(concurrency)",
          unit: "ms", samples: rounds.map { $0[position].cotar * 1000 }))
      figures.append(
        Figure(
          key: "remote.batch_limit_ms_c\(concurrency)", label: "limit: \(Self.batchSize) range GETs, c=\(concurrency)",
          unit: "ms", samples: rounds.map { $0[position].limit * 1000 }))
      figures.append(
        Figure(
          key: "remote.batch_requests_c\(concurrency)", label: "requests of the batch, c=\(concurrency)",
          unit: "requests", samples: rounds.map { Double($0[position].requests) }))
    }
    return figures
  }

  /// Limit time over Cotar time per concurrency (target 0.67).
  func ratios(_ figures: [Figure]) -> [Ratio] {
    func median(_ key: String) -> Double { figures.first { $0.key == key }?.median ?? .nan }
    return Self.concurrencies.map { concurrency in
      Ratio(
        key: "remote.batch_vs_limit_c\(concurrency)", label: "batch: limit time / Cotar time, c=\(concurrency)",
        value: median("remote.batch_limit_ms_c\(concurrency)") / median("remote.batch_ms_c\(concurrency)"), target: 0.67)
    }
  }

  /// What the batch figures measure.
  var note: String {
    "batch: \(Self.batchSize) random entries of the \(corpus.entryCount)-entry .tar.co per run, server delaying every "
      + "answer by \(latency) ms (--latency-ms; the other remote figures have no delay); Cotar opens afresh (untimed) "
      + "and reads with Cotar.read(paths:), lookup and read concurrency c; the limit sends one range GET per known "
      + "(offset, size) at concurrency c; wall-clock"
  }
}
