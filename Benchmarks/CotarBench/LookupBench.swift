import CotarCore
import CotarTestSupport

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Section 2: local lookups plus reads, against `pread` of ranges known in advance.
enum LookupBench {
  /// Paths looked up and their expected locations.
  ///
  /// The lists are built fresh, in lookup order, so that walking them costs every contender
  /// the same (the corpus's own path strings are scattered over the heap, and touching them
  /// in random order would add cache misses that belong to the bench, not to the lookup).
  struct Workload {
    /// Existing paths, picked at random (with repeats) from the corpus.
    var present: [CorpusEntry]
    /// The (offset, size) of each of `present`, known in advance: the limit's input.
    var ranges: [(offset: UInt64, size: Int)]
    /// Paths that are not in the archive.
    var absent: [String]
    /// Existing paths for the linear-scan baseline.
    var scanned: [CorpusEntry]
  }

  /// Picks the paths with a generator seeded from the corpus seed.
  static func workload(corpus: Corpus, lookups: Int, scans: Int) -> Workload {
    var random = SplitMix64(seed: corpus.seed ^ 0x100C_0B5E_ED00_0000)
    let present = (0..<lookups).map { _ in
      let entry = corpus.entries[Int(random.next() % UInt64(corpus.entries.count))]
      return CorpusEntry(path: String(decoding: Array(entry.path.utf8), as: UTF8.self), dataOffset: entry.dataOffset, size: entry.size)
    }
    // Every corpus path ends in `.pbf`, so these are absent (and hash to unrelated slots).
    let absent = (0..<lookups).map { _ in
      "tiles/\(random.next() % 19)/\(random.next() % 262_144)/\(random.next() % 262_144).png"
    }
    let scanned = (0..<scans).map { _ in corpus.entries[Int(random.next() % UInt64(corpus.entries.count))] }
    return Workload(
      present: present, ranges: present.map { ($0.dataOffset, $0.size) }, absent: absent, scanned: scanned)
  }

  /// Timed runs of each lookup contender per `--repetitions`. One run of 10,000 lookups lasts
  /// about 15 ms: one timer interrupt or a moment descheduled moves it by 10–30 %, and with
  /// five runs such a hiccup in two of them moves the median. Three runs per repetition (15 by
  /// default) keep the medians, and the ratios of medians, steady.
  static let runsPerRepetition = 3

  /// Measures lookups+reads with the index in memory and read through `FileSource`, absent
  /// lookups, the `pread` limit and the linear scan.
  ///
  /// - Throws: `BenchError` when a lookup returns the wrong bytes, or I/O errors.
  static func run(
    corpus: Corpus, repetitions: Int, lookups: Int, scans: Int, stopwatch: Stopwatch
  ) async throws -> Section {
    let work = workload(corpus: corpus, lookups: lookups, scans: scans)
    var section = Section(
      key: "lookup",
      title: "2. Local lookups+reads (\(lookups) random paths, concurrency 1)")
    let count = Double(lookups)

    let inMemory = try await Cotar.open(
      FileSource(path: corpus.cotarPath), options: Cotar.OpenOptions(loadIndexIntoMemory: true))
    let viaFile = try await Cotar.open(FileSource(path: corpus.cotarPath), options: Cotar.OpenOptions(indexCache: nil))
    let viaPread = try await Cotar.open(
      FileSource(path: corpus.cotarPath), options: Cotar.OpenOptions(indexCache: nil, mapLocalIndex: false))
    // An index no larger than the speculative read at open is read whole then, not mapped.
    let readWholeAtOpen = viaFile.index.header.indexSize <= UInt64(Cotar.OpenOptions().speculativeBytes)
    guard viaFile.index.isMapped || readWholeAtOpen, !viaPread.index.isMapped else {
      throw BenchError("the default open of a local .tar.co should map its index, and mapLocalIndex: false should not")
    }
    let viaFileCached = try await Cotar.open(FileSource(path: corpus.cotarPath))

    let source = try FileSource(path: corpus.cotarPath)
    let evictor = CacheEvictor()
    var rates = try await stopwatch.interleavedRates(
      repetitions: repetitions * runsPerRepetition, work: [count, count, count, count, count, count, count, count, count, count, count, count],
      beforeEach: {
        evictor.evict()
        warmInputs(work)
      },
      [
        { try await readAllIntoBuffer(work.present, from: inMemory) },
        { try await readAllIntoBuffer(work.present, from: viaFile) },
        { try preadAll(work.ranges, path: corpus.cotarPath) },
        { try await sourceReadAll(work.ranges, from: source) },
        { try await expectAbsent(work.absent, in: inMemory) },
        { try await expectAbsent(work.absent, in: viaFile) },
        { try await readAll(work.present, from: inMemory) },
        { try await readAllIntoBuffer(work.present, from: viaFileCached) },
        { try await readAllIntoBuffer(work.present, from: viaPread) },
        { try await batchRead(work.present, from: viaFile) },
        { try hashThenPread(work.present, path: corpus.cotarPath) },
        { try probeThenPread(work.present, index: inMemory.index, path: corpus.cotarPath) },
      ])
    // The linear scan takes about a second per run, so it runs `repetitions` times on its own
    // (no ratio with a target depends on it).
    rates.insert(
      try await stopwatch.interleavedRates(
        repetitions: repetitions, work: [Double(scans)], [{ try await linearScan(work.scanned, path: corpus.tarPath) }])[0],
      at: 8)

    section.figures = [
      Figure(
        key: "lookup.memory_per_s", label: "Cotar, index in memory, read(_:into:)", unit: "lookups+reads/s",
        samples: rates[0]),
      Figure(
        key: "lookup.file_per_s", label: "Cotar, index via FileSource (.tar.co), mapped (default)", unit: "lookups+reads/s",
        samples: rates[1]),
      Figure(key: "lookup.limit_per_s", label: "limit: pread of known (offset, size)", unit: "reads/s", samples: rates[2]),
      Figure(
        key: "lookup.source_read_per_s", label: "FileSource.read of known (offset, size)", unit: "reads/s",
        samples: rates[3]),
      Figure(key: "lookup.memory_absent_per_s", label: "Cotar, absent paths, index in memory", unit: "lookups/s", samples: rates[4]),
      Figure(key: "lookup.file_absent_per_s", label: "Cotar, absent paths, index via file", unit: "lookups/s", samples: rates[5]),
      Figure(
        key: "lookup.memory_array_per_s", label: "Cotar, index in memory, read(_:) → new array", unit: "lookups+reads/s",
        samples: rates[6]),
      Figure(
        key: "lookup.file_default_per_s", label: "Cotar, index via FileSource, default options", unit: "lookups+reads/s",
        samples: rates[7]),
      Figure(key: "lookup.linear_scan_per_s", label: "linear scan of the tar (\(scans) paths)", unit: "lookups+reads/s", samples: rates[8]),
      Figure(
        key: "lookup.file_pread_per_s", label: "Cotar, index via FileSource, mapping off (pread windows)",
        unit: "lookups+reads/s", samples: rates[9]),
      Figure(
        key: "lookup.batch_per_s", label: "Cotar.read(paths:) of all paths at once, mapped index",
        unit: "lookups+reads/s", samples: rates[10]),
      Figure(
        key: "lookup.hash_pread_per_s", label: "floor: FNV-1a of the path, then the limit's pread",
        unit: "reads/s", samples: rates[11]),
      Figure(
        key: "lookup.probe_pread_per_s", label: "floor: FNV-1a + in-memory probe, then a bare pread",
        unit: "lookups+reads/s", samples: rates[12]),
    ]
    let limit = section.figures[2].median
    section.ratios = [
      Ratio(
        key: "lookup.memory_over_limit", label: "in memory / limit", value: section.figures[0].median / limit,
        target: memoryTarget(entries: corpus.entryCount)),
      Ratio(key: "lookup.file_over_limit", label: "via FileSource (mapped) / limit", value: section.figures[1].median / limit, target: 0.8),
      Ratio(
        key: "lookup.file_pread_over_limit", label: "via FileSource, pread windows / limit",
        value: section.figures[9].median / limit, target: nil),
      Ratio(
        key: "lookup.batch_over_limit", label: "read(paths:) batch / limit",
        value: section.figures[10].median / limit, target: nil),
      Ratio(
        key: "lookup.memory_over_linear_scan", label: "in memory / linear scan",
        value: section.figures[0].median / section.figures[8].median, target: nil),
      Ratio(
        key: "lookup.source_read_over_limit", label: "FileSource.read alone / limit",
        value: section.figures[3].median / limit, target: nil),
      Ratio(
        key: "lookup.memory_array_over_limit", label: "in memory, new array per read / limit",
        value: section.figures[6].median / limit, target: nil),
      Ratio(
        key: "lookup.hash_pread_over_limit", label: "floor: hash + pread / limit",
        value: section.figures[11].median / limit, target: nil),
      Ratio(
        key: "lookup.probe_pread_over_limit", label: "floor: hash + probe + bare pread / limit",
        value: section.figures[12].median / limit, target: nil),
    ]
    return section
  }

  /// The in-memory lookup's target: 0.85 of the limit up to 200,000 entries, 0.75 from
  /// 1,000,000 on, where the table (20 MB) misses the CPU caches on every probe (issue 15's
  /// targets; between the two, the stricter one).
  static func memoryTarget(entries: Int) -> Double { entries >= 1_000_000 ? 0.75 : 0.85 }

  /// Touches what the contenders are handed (the paths' bytes, the known ranges), after an
  /// eviction: a caller looking up a path has just built or received it, and the limit's
  /// (offset, size) pairs are as warm; only the archive's side (index, page-cache data, the
  /// kernel's structures) starts cold.
  private static func warmInputs(_ work: Workload) {
    var sum = 0
    for entry in work.present {
      sum &+= entry.path.utf8.withContiguousStorageIfAvailable { $0.reduce(0) { $0 &+ Int($1) } } ?? 0
    }
    for path in work.absent {
      sum &+= path.utf8.withContiguousStorageIfAvailable { $0.reduce(0) { $0 &+ Int($1) } } ?? 0
    }
    for range in work.ranges { sum &+= Int(truncatingIfNeeded: range.offset) &+ range.size }
    blackHole(sum)
  }

  /// Looks up and reads every entry, checking the size of what comes back.
  private static func readAll(_ entries: [CorpusEntry], from archive: Cotar) async throws {
    var total = 0
    for entry in entries {
      guard let bytes = try await archive.read(entry.path), bytes.count == entry.size else {
        throw BenchError("lookup of \(entry.path) did not return its \(entry.size) bytes")
      }
      total &+= Int(bytes[0])
    }
    blackHole(total)
  }

  /// Looks up every entry and reads it into one reused buffer, as the limit does: without
  /// suspending when the archive allows it (`Cotar.readWithoutSuspending`), else with
  /// `Cotar.read(_:into:)`, as a data loader would.
  private static func readAllIntoBuffer(_ entries: [CorpusEntry], from archive: Cotar) async throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Corpus.sizeRange.upperBound, alignment: 64)
    defer { buffer.deallocate() }
    var total = 0
    for entry in entries {
      let count: Int?
      if case .resolved(let done) = try archive.readWithoutSuspending(entry.path, into: buffer) {
        count = done
      } else {
        count = try await archive.read(entry.path, into: buffer)
      }
      guard let count, count == entry.size else {
        throw BenchError("lookup of \(entry.path) did not return its \(entry.size) bytes")
      }
      total &+= Int(buffer[0])
    }
    blackHole(total)
  }

  /// Reads all entries with one `read(paths:)` call (new arrays, sorted and coalesced reads),
  /// checking every size.
  private static func batchRead(_ entries: [CorpusEntry], from archive: Cotar) async throws {
    let results = try await archive.read(paths: entries.map(\.path))
    var total = 0
    for (entry, bytes) in zip(entries, results) {
      guard let bytes, bytes.count == entry.size else {
        throw BenchError("batch read of \(entry.path) did not return its \(entry.size) bytes")
      }
      total &+= Int(bytes[0])
    }
    blackHole(total)
  }

  /// Reads every range through the `RangeSource` API (a fresh array per read), without a
  /// lookup: what the API costs over a bare `pread`.
  private static func sourceReadAll(_ ranges: [(offset: UInt64, size: Int)], from source: any RangeSource) async throws {
    var total = 0
    for range in ranges {
      let bytes = try await source.read(offset: range.offset, count: range.size)
      total &+= Int(bytes[0])
    }
    blackHole(total)
  }

  /// Checks that none of `paths` resolves.
  private static func expectAbsent(_ paths: [String], in archive: Cotar) async throws {
    for path in paths where try await archive.entry(path) != nil {
      throw BenchError("absent path \(path) was found")
    }
  }

  /// A floor for a lookup: the path's FNV-1a 64 (which any hash index must compute), then
  /// the limit's `pread` of the range known in advance. No table access.
  private static func hashThenPread(_ entries: [CorpusEntry], path: String) throws {
    try withReadBuffer(path) { descriptor, buffer in
      var total = 0
      for entry in entries {
        let hash = PathHash.fnv1a64(entry.path)
        let n = pread(descriptor, buffer.baseAddress, entry.size, off_t(entry.dataOffset))
        guard n == entry.size else { throw BenchError.system("pread", path) }
        total &+= Int(buffer[0]) &+ Int(truncatingIfNeeded: hash)
      }
      blackHole(total)
    }
  }

  /// A floor for an in-memory lookup: the hash and Cotar's own probe of the in-memory table
  /// (`CotarIndex.lookupInMemory`, one cache-missing slot load), then a bare `pread` of the
  /// range it found, without Cotar's read path (data-limit check, `FileSource`). The gap to
  /// `memory_per_s` is what that read path costs; the gap to `hash_pread_per_s` is the probe.
  private static func probeThenPread(_ entries: [CorpusEntry], index: CotarIndex, path: String) throws {
    try withReadBuffer(path) { descriptor, buffer in
      var total = 0
      for entry in entries {
        guard case .resolved(let found?) = index.lookupInMemory(hash: PathHash.fnv1a64(entry.path)) else {
          throw BenchError("the in-memory probe did not find \(entry.path)")
        }
        let n = pread(descriptor, buffer.baseAddress, Int(found.size), off_t(found.offset))
        guard n == entry.size else { throw BenchError.system("pread", path) }
        total &+= Int(buffer[0])
      }
      blackHole(total)
    }
  }

  /// The limit: one `pread` per entry, at offsets known in advance, into one reused buffer.
  private static func preadAll(_ ranges: [(offset: UInt64, size: Int)], path: String) throws {
    try withReadBuffer(path) { descriptor, buffer in
      var total = 0
      for range in ranges {
        let n = pread(descriptor, buffer.baseAddress, range.size, off_t(range.offset))
        guard n == range.size else { throw BenchError.system("pread", path) }
        total &+= Int(buffer[0])
      }
      blackHole(total)
    }
  }

  /// Runs `body` with the file at `path` open for reading and one reused buffer as large as
  /// the largest entry: the set-up of the `pread` contenders, outside their timed loops.
  private static func withReadBuffer(
    _ path: String, _ body: (Int32, UnsafeMutableRawBufferPointer) throws -> Void
  ) throws {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw BenchError.system("open", path) }
    defer { close(descriptor) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Corpus.sizeRange.upperBound, alignment: 64)
    defer { buffer.deallocate() }
    try body(descriptor, buffer)
  }

  /// What a tar without an index costs: walk the headers from the start until the path
  /// appears, then read its data.
  private static func linearScan(_ entries: [CorpusEntry], path: String) async throws {
    struct Found: Error { var entry: TarEntry }
    let source = try FileSource(path: path)
    let scanner = TarScanner(source: source)
    for wanted in entries {
      let target = Array(wanted.path.utf8)
      do {
        _ = try await scanner.scan { entry in
          if entry.pathBytes == target { throw Found(entry: entry) }
        }
        throw BenchError("linear scan did not find \(wanted.path)")
      } catch let found as Found {
        let bytes = try await source.read(found.entry.dataOffset..<(found.entry.dataOffset + found.entry.size))
        guard bytes.count == wanted.size else { throw BenchError("linear scan read the wrong size for \(wanted.path)") }
      }
    }
  }
}

/// Keeps `value` alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole(_ value: Int) {
  if value == Int.min { print("") }
}
