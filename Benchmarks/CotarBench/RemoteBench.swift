import AsyncHTTPClient
import CotarCore
import CotarHTTP
import CotarTestSupport
import NIOCore

/// Section 3: lookups over HTTP on 127.0.0.1, against plain range GETs of the known ranges.
///
/// The corpus `.tar.co` is served by `CotarTestSupport.RangeServer` (SwiftNIO, in this
/// process, bound to 127.0.0.1 on a system-chosen port, reading each range from the file
/// with `pread`). Every contender uses one shared `HTTPClient`. See ``RemoteProbe`` for the
/// cold/warm/hot request counts and ``RemoteThroughput`` for the rates and latencies.
enum RemoteBench {
  /// Cold/warm/hot trials per repetition (each one a fresh open).
  static let trialsPerRepetition = 10
  /// Time allowed for any one request; the bench fails rather than waits longer.
  static let requestTimeout = Duration.seconds(10)

  /// Starts the server and the client, measures, and stops both (also on failure).
  ///
  /// - Throws: `BenchError` when a lookup returns the wrong bytes or counts disagree; HTTP
  ///   and I/O errors.
  static func run(
    corpus: Corpus, repetitions: Int, lookups: Int, latency: Int, stopwatch: Stopwatch
  ) async throws -> Section {
    try await withBenchServer(client: clientConfiguration) { server, client in
      try await measure(
        corpus: corpus, server: server, client: client, repetitions: repetitions, lookups: lookups,
        latency: latency, stopwatch: stopwatch)
    }
  }

  /// Keep-alive pool large enough for the highest concurrency, so no contender queues for a
  /// connection; no decompression, bounded connect/read time.
  /// Connections per host: the highest concurrency of any contender.
  static let connections = max(RemoteThroughput.concurrencies.max() ?? 1, RemoteBatch.concurrencies.max() ?? 1)

  private static var clientConfiguration: HTTPClient.Configuration {
    var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(10)))
    configuration.decompression = .disabled
    configuration.connectionPool = .init(
      idleTimeout: .seconds(60),
      concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
    return configuration
  }

  private static func measure(
    corpus: Corpus, server: RangeServer, client: HTTPClient, repetitions: Int, lookups: Int, latency: Int,
    stopwatch: Stopwatch
  ) async throws -> Section {
    try await server.putFile("corpus.tar.co", path: corpus.cotarPath)
    let url = server.url("corpus.tar.co")
    let configuration = HTTPRangeSourceConfiguration(
      requestTimeout: requestTimeout, retry: RetryPolicy(maximumAttempts: 1))
    let geometry = RemoteGeometry(
      archive: try await Cotar.open(try HTTPRangeSource(url: url, client: client, configuration: configuration)))
    let probe = RemoteProbe(url: url, server: server, client: client, configuration: configuration)
    let trials = try RemoteProbe.trials(
      corpus: corpus, geometry: geometry, count: trialsPerRepetition * (repetitions + 1))
    let batch = RemoteBatch(
      corpus: corpus, server: server, url: url, client: client, configuration: configuration, latency: latency)
    let throughput = try await RemoteThroughput(
      corpus: corpus, url: url, client: client, configuration: configuration, lookups: lookups,
      indexBytes: geometry.fileSize - geometry.baseOffset, stopwatch: stopwatch)

    // One untimed warm-up round (connections, the hot archive's window cache), then
    // `repetitions` rounds in which every contender runs once, in turn.
    var probes: [RemoteProbe.Samples] = []
    var rounds: [RemoteThroughput.Round] = []
    var batchRounds: [RemoteBatch.Round] = []
    var hotBaseline = 0
    for round in 0...repetitions {
      let group = Array(trials[(round * trialsPerRepetition)..<((round + 1) * trialsPerRepetition)])
      let sample = try await probe.run(group)
      let measured = try await throughput.round()
      let batched = try await batch.round(seed: UInt64(round))
      server.resetLog()
      if round > 0 {
        probes.append(sample)
        rounds.append(measured)
        batchRounds.append(batched)
      }
      if round == 0 { hotBaseline = throughput.hotRequests }
    }

    var section = Section(
      key: "remote",
      title: "3. Remote lookups over HTTP (127.0.0.1, \(lookups) random paths)")
    section.figures = probeFigures(probes) + throughput.figures(rounds) + batch.figures(batchRounds)
    section.ratios = throughput.ratios(section.figures) + batch.ratios(section.figures)
    section.notes = [
      requestNote(probes, geometry: geometry),
      throughput.hotRequestsNote(since: hotBaseline, rounds: rounds.count),
      batch.note,
      "one shared HTTPClient (AsyncHTTPClient, HTTP/1.1 keep-alive, up to "
        + "\(connections) connections); server: CotarTestSupport.RangeServer (SwiftNIO) "
        + "in this process, pread per request, on the client's event-loop group",
      "limit: raw AHC GET with a Range header per known (offset, size), body collected, no lookup; "
        + "source read: HTTPRangeSource.read of the same ranges",
      "latencies are wall-clock per lookup (also with --clock cpu)",
    ]
    return section
  }

  /// Requests, bytes and latency of cold, warm and hot lookups.
  private static func probeFigures(_ probes: [RemoteProbe.Samples]) -> [Figure] {
    let kinds: [(key: String, label: String, pick: (RemoteProbe.Samples) -> RemoteProbe.Sample)] = [
      ("cold", "cold (open+lookup+read)", { $0.cold }),
      ("warm", "warm (window uncached)", { $0.warm }),
      ("hot", "hot (window cached)", { $0.hot }),
    ]
    let measures: [(key: String, label: String, unit: String, value: (RemoteProbe.Sample) -> Double)] = [
      ("requests_", "requests, ", "requests/lookup", { $0.requests }),
      ("bytes_", "bytes, ", "B/lookup", { $0.bytes }),
      ("", "p50 ", "ms", { $0.milliseconds }),
    ]
    return measures.flatMap { measure in
      kinds.map { kind in
        Figure(
          key: "remote.\(measure.key)\(kind.key)\(measure.key.isEmpty ? "_ms" : "")", label: measure.label + kind.label,
          unit: measure.unit, samples: probes.map { measure.value(kind.pick($0)) })
      }
    }
  }

  /// The request counts against the issue's targets.
  private static func requestNote(
    _ probes: [RemoteProbe.Samples], geometry: RemoteGeometry
  ) -> String {
    let targets: (cold: Double, warm: Double, hot: Double) = geometry.fullyResident ? (2, 1, 1) : (3, 2, 1)
    let worst = (
      cold: probes.map(\.cold.requests).max() ?? 0, warm: probes.map(\.warm.requests).max() ?? 0,
      hot: probes.map(\.hot.requests).max() ?? 0
    )
    let met = worst.cold <= targets.cold && worst.warm <= targets.warm && worst.hot <= targets.hot
    let suffixKiB = geometry.speculativeBytes / 1024
    let layout =
      geometry.fullyResident
      ? "the whole index fits the \(suffixKiB) KiB suffix read at open"
      : "index \(geometry.fileSize - geometry.baseOffset) B, larger than the \(suffixKiB) KiB suffix read at open; "
        + "cold and warm paths picked with windows outside it, warm in other cache blocks than cold"
    let counts = [worst.cold, worst.warm, worst.hot].map(Report.format).joined(separator: "/")
    let wanted = [targets.cold, targets.warm, targets.hot].map(Report.format).joined(separator: "/")
    return "requests per lookup (cold/warm/hot), worst of all trials: \(counts); targets \(wanted) (\(layout)): "
      + (met ? "met" : "MISSED")
  }
}
