import AsyncHTTPClient
import CotarCore
import CotarHTTP
import CotarTestSupport
import Foundation

/// Section 6: the corpus tar gzipped by the `gzip` tool (one member), indexed with seek
/// points (SPEC §13) and read over HTTP on 127.0.0.1: requests, bytes and latency of a cold
/// lookup, against downloading the archive up to the entry and gunzipping it; index size per
/// entry and per seek point.
enum GzipBench {
  static let lookups = 20

  static func run(corpus: Corpus, stopwatch: Stopwatch) async throws -> Section {
    var section = Section(key: "gzip", title: "6. .tar.gz over HTTP (\(corpus.entryCount) entries, gzip -6, 1 MiB seek spacing)")
    guard Spawn.isAvailable("gzip") else {
      section.unavailableReason = "the gzip tool is not installed"
      return section
    }
    let gzPath = corpus.tarPath + ".gz"
    if (try? FileManager.default.attributesOfItem(atPath: gzPath)) == nil {
      let made = try Spawn.run("/bin/sh", ["-c", "gzip -6 -c '\(corpus.tarPath)' > '\(gzPath).tmp' && mv '\(gzPath).tmp' '\(gzPath)'"])
      guard made.status == 0 else { throw BenchError("gzip failed for \(corpus.tarPath)") }
    }
    var built: GzipIndexBuildResult?
    let buildSeconds = try await stopwatch.seconds {
      built = try await GzipIndexBuilder.build(archive: FileSource(path: gzPath), names: .init())
    }
    guard let built else { throw BenchError("no gzip index") }
    let indexPath = gzPath + ".index"
    try Data(built.bytes).write(to: URL(fileURLWithPath: indexPath))
    defer { try? FileManager.default.removeItem(atPath: indexPath) }
    let compressedSize = built.header.compressedSize

    try await withBenchServer { server, client in
      try await server.putFile("corpus.tar.gz", path: gzPath)
      try await server.putFile("corpus.tar.gz.index", path: indexPath)
      var random = SplitMix64(seed: corpus.seed ^ 0x6A7A)
      var requests: [Double] = []
      var transferred: [Double] = []
      var cotarSeconds: [Double] = []
      var baselineSeconds: [Double] = []
      var baselineBytes: [Double] = []
      for _ in 0..<lookups {
        let entry = corpus.entries[Int(random.next() % UInt64(corpus.entries.count))]
        let archive = try HTTPRangeSource(url: server.url("corpus.tar.gz"), client: client)
        let index = try HTTPRangeSource(url: server.url("corpus.tar.gz.index"), client: client)
        var bytes: [UInt8]?
        cotarSeconds.append(
          try await stopwatch.seconds {
            let cotar = try await Cotar.open(gzip: archive, index: index)
            bytes = try await cotar.read(entry.path)
          })
        guard bytes?.count == entry.size else { throw BenchError("\(entry.path): wrong size from the .tar.gz") }
        // HTTP requests actually sent and bytes received.
        requests.append(Double(archive.statistics.requests + index.statistics.requests))
        transferred.append(Double(archive.statistics.bytes + index.statistics.bytes))
        // Baseline: download from the start through the entry's end and gunzip up to it
        // (inflating from the start, no seek points; the download stops at the first seek
        // point after the entry, as a streaming client would).
        let plain = try HTTPRangeSource(url: server.url("corpus.tar.gz"), client: client)
        let end = entry.dataOffset + UInt64(entry.size)
        let stop = built.points.first { $0.uncompressedOffset >= end }
        let compressedEnd = stop.map { min(compressedSize, ($0.compressedBitOffset + 7) / 8 + 1) } ?? compressedSize
        var streamed: [UInt8] = []
        baselineSeconds.append(
          try await stopwatch.seconds {
            streamed = try await downloadAndGunzip(plain, through: compressedEnd, keeping: entry.dataOffset..<end)
          })
        guard streamed == bytes else { throw BenchError("\(entry.path): the baseline read other bytes") }
        baselineBytes.append(Double(plain.statistics.bytes))
      }
      section.figures += [
        Figure(key: "gzip.build_s", label: "index build (2 passes)", unit: "s", samples: [buildSeconds]),
        Figure(key: "gzip.lookup_requests", label: "cold lookup: requests", unit: "requests", samples: requests),
        Figure(key: "gzip.lookup_bytes", label: "cold lookup: bytes", unit: "bytes", samples: transferred),
        Figure(key: "gzip.lookup_ms", label: "cold lookup: latency", unit: "ms", samples: cotarSeconds.map { $0 * 1000 }),
        Figure(
          key: "gzip.baseline_ms", label: "download + gunzip to the entry", unit: "ms",
          samples: baselineSeconds.map { $0 * 1000 }),
        Figure(key: "gzip.baseline_bytes", label: "download + gunzip: bytes", unit: "bytes", samples: baselineBytes),
        Figure(key: "gzip.archive_bytes", label: "compressed archive", unit: "bytes", samples: [Double(compressedSize)]),
        Figure(
          key: "gzip.index_bytes_per_entry", label: "index size", unit: "B/entry",
          samples: [Double(built.bytes.count) / Double(max(1, corpus.entryCount))]),
        Figure(
          key: "gzip.bytes_per_seek_point", label: "seek point + window", unit: "B/point",
          samples: [Double(built.header.pointTableLength + built.header.windowsLength) / Double(built.points.count)]),
      ]
      let cotarMedian = Figure(key: "", label: "", unit: "", samples: cotarSeconds).median
      let baselineMedian = Figure(key: "", label: "", unit: "", samples: baselineSeconds).median
      section.ratios.append(
        Ratio(key: "gzip.baseline_over_cotar", label: "download+gunzip / cotar latency", value: baselineMedian / max(cotarMedian, 1e-9)))
      section.notes.append(
        "\(built.points.count) seek points (\(built.points.filter { $0.kind == .blockBoundary }.count) with windows), index \(built.bytes.count) bytes; \(lookups) random cold lookups, each through new sources (nothing cached)")
    }
    return section
  }

  /// What reading `wanted` costs without seek points: one download of the archive's first
  /// `compressedEnd` bytes, inflated from the start (the gzip header on) until the inflated
  /// bytes reach `wanted.upperBound`.
  ///
  /// - Returns: the inflated bytes of `wanted`.
  /// - Throws: what the source or zlib throws, or `BenchError` when the data ends before
  ///   `wanted` does.
  private static func downloadAndGunzip(
    _ source: HTTPRangeSource, through compressedEnd: UInt64, keeping wanted: Range<UInt64>
  ) async throws -> [UInt8] {
    let compressed = try await source.read(0..<compressedEnd)
    let inflater = try ZlibInflater(mode: .gzip)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    var kept: [UInt8] = []
    kept.reserveCapacity(Int(wanted.count))
    var consumed = 0
    var inflated: UInt64 = 0
    while inflated < wanted.upperBound {
      let step = try inflater.inflate(compressed, from: consumed, into: &chunk, at: 0, count: chunk.count)
      consumed += step.consumed
      let chunkRange = inflated..<(inflated + UInt64(step.produced))
      let overlap = chunkRange.clamped(to: wanted)
      if !overlap.isEmpty {
        kept += chunk[Int(overlap.lowerBound - inflated)..<Int(overlap.upperBound - inflated)]
      }
      inflated = chunkRange.upperBound
      if step.streamEnded || (step.consumed == 0 && step.produced == 0) { break }
    }
    guard inflated >= wanted.upperBound else {
      throw BenchError("the .tar.gz inflated to \(inflated) bytes, before the entry ends at \(wanted.upperBound)")
    }
    return kept
  }
}
