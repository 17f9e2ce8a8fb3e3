import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs the whole bench: corpus, sections 1–4, table, optional JSON.
func runBench(_ arguments: BenchArguments) async throws {
  let corpus = Corpus(entryCount: arguments.entries, seed: arguments.seed, directory: arguments.directory)
  let clock = ContinuousClock()
  let start = clock.now
  if try await corpus.prepare() {
    log("generated \(corpus.tarPath) (\(corpus.tarSize) bytes) in \(Report.format((clock.now - start).seconds)) s")
  } else {
    log("reusing \(corpus.tarPath)")
  }
  try warmPageCache(corpus.tarPath)
  try warmPageCache(corpus.cotarPath)
  try warmPageCache(corpus.indexPath)

  let stopwatch = Stopwatch(clock: arguments.clock)
  var sections: [Section] = []
  var peers: PeersBench.Results?
  if arguments.only.contains("build") {
    log("1/4 index build")
    var build = try await BuildBench.run(corpus: corpus, repetitions: arguments.repetitions, stopwatch: stopwatch)
    if arguments.peers {
      log("    peers (\(arguments.python))")
      let results = try PeersBench.run(
        corpus: corpus, repetitions: arguments.repetitions, python: arguments.python, clock: arguments.clock)
      PeersBench.addBuildFigures(results, to: &build)
      peers = results
    } else {
      build.notes.append("Python tarfile and ratarmountcore not measured (pass --peers, or run Benchmarks/peers.sh)")
    }
    sections.append(build)
  }
  if arguments.only.contains("lookup") {
    log("2/4 local lookups")
    sections.append(
      try await LookupBench.run(
        corpus: corpus, repetitions: arguments.repetitions, lookups: arguments.lookups, scans: arguments.scans,
        stopwatch: stopwatch))
  }
  if arguments.only.contains("remote") {
    log("3/4 remote lookups")
    sections.append(
      try await RemoteBench.run(
        corpus: corpus, repetitions: arguments.repetitions, lookups: arguments.remoteLookups,
        latency: arguments.latencyMilliseconds, stopwatch: stopwatch))
  }
  if arguments.only.contains("size") {
    log("4/4 index size")
    sections.append(PeersBench.indexSizeSection(corpus: corpus, peers: peers))
  }
  if arguments.only.contains("large") {
    log("4b/4 large entry (\(arguments.largeBytes >> 20) MiB)")
    sections.append(
      try await LargeBench.run(
        directory: arguments.directory, size: arguments.largeBytes, repetitions: arguments.repetitions))
  }
  if arguments.only.contains("listing") {
    log("5/5 listing over HTTP")
    sections.append(try await ListingBench.run(corpus: corpus))
  }
  if arguments.only.contains("gzip") {
    log("6/6 .tar.gz over HTTP")
    sections.append(try await GzipBench.run(corpus: corpus, stopwatch: stopwatch))
  }

  let report = Report(
    parameters: [
      ("entries", String(corpus.entryCount)), ("seed", String(corpus.seed)),
      ("repetitions", String(arguments.repetitions)), ("tar_bytes", String(corpus.tarSize)),
      ("clock", arguments.clock.rawValue),
      ("build", benchBuildConfiguration),
    ],
    machine: MachineInfo.describe(),
    sections: sections)
  print(report.table(), terminator: "")
  if let jsonPath = arguments.jsonPath {
    try writeSmallFile(jsonPath, report.json())
    log("wrote \(jsonPath)")
  }
}

/// How this binary was compiled: `debug` (SwiftPM defines `DEBUG`) or `release`.
#if DEBUG
  let benchBuildConfiguration = "debug"
#else
  let benchBuildConfiguration = "release"
#endif

/// Prints a progress line on standard error.
func log(_ text: String) {
  var line = text + "\n"
  line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

do {
  let arguments = try BenchArguments(parsing: Array(CommandLine.arguments.dropFirst()))
  if let path = arguments.childBuild {
    try await BuildBench.childBuild(path: path)
  } else if arguments.childIdle {
    await BuildBench.childIdle()
  } else {
    try await runBench(arguments)
  }
} catch {
  log("cotar-bench: \(error)")
  exit(1)
}
