import CotarCore

/// Section 1: index build speed and memory, against the header-walk limit and GNU tar.
enum BuildBench {
  /// Measures Cotar's builder, the header-walk limit and `tar -tf` on the corpus tar, and
  /// the builder's peak RSS in a child process.
  ///
  /// - Throws: `BenchError` when a walker disagrees about the member count, or I/O errors.
  static func run(corpus: Corpus, repetitions: Int, stopwatch: Stopwatch) async throws -> Section {
    let count = Double(corpus.entryCount)
    var section = Section(key: "build", title: "1. Index build (\(corpus.entryCount) entries)")

    let hasTar = Spawn.isAvailable("tar")
    var bodies: [() async throws -> Void] = [
      {
        let result = try await CotarIndexBuilder.build(tar: FileSource(path: corpus.tarPath), options: Corpus.indexOptions)
        guard result.index.stats.files == corpus.entryCount else {
          throw BenchError("Cotar indexed \(result.index.stats.files) files, expected \(corpus.entryCount)")
        }
      },
      {
        let members = try HeaderWalkLimit.countMembers(path: corpus.tarPath)
        guard members == corpus.entryCount else {
          throw BenchError("header walk found \(members) members, expected \(corpus.entryCount)")
        }
      },
    ]
    if hasTar {
      bodies.append {
        let result = try Spawn.run("tar", ["-tf", corpus.tarPath])
        guard result.status == 0 else { throw BenchError("tar -tf exited with status \(result.status)") }
      }
    }
    let rates = try await stopwatch.interleavedRates(
      repetitions: repetitions, work: [Double](repeating: count, count: bodies.count), bodies)
    section.figures.append(Figure(key: "build.cotar_entries_per_s", label: "Cotar builder", unit: "entries/s", samples: rates[0]))
    section.figures.append(
      Figure(key: "build.limit_entries_per_s", label: "limit: sequential header walk", unit: "entries/s", samples: rates[1]))
    // What `cotar index` and `cotar create` do by default, the index and its name table, in
    // runs of its own: in the rotation above, the 70 MB its build frees left heap pages mapped
    // for the next contender's build, which then ran 8 % faster than on its own.
    let withNames = try await stopwatch.interleavedRates(
      repetitions: repetitions, work: [count],
      [
        {
          let result = try await CotarIndexBuilder.build(
            tar: FileSource(path: corpus.tarPath), options: Corpus.indexOptions, names: NameTableBuilder.Options())
          guard result.names?.isEmpty == false else { throw BenchError("the build with names made no name table") }
        }
      ])
    section.figures.append(
      Figure(
        key: "build.cotar_names_entries_per_s", label: "Cotar builder with its name table (CLI default)",
        unit: "entries/s", samples: withNames[0]))
    let cotarMedian = section.figures[0].median
    let limitMedian = section.figures[1].median
    section.ratios.append(Ratio(key: "build.cotar_over_limit", label: "Cotar / limit", value: cotarMedian / limitMedian, target: 0.7))
    section.ratios.append(
      Ratio(
        key: "build.cotar_names_over_limit", label: "Cotar with name table / limit", value: section.figures[2].median / limitMedian,
        target: nil))
    if hasTar {
      let figure = Figure(
        key: "build.gnu_tar_entries_per_s", label: "GNU tar -tf (spawned)", unit: "entries/s", samples: rates[2])
      section.figures.append(figure)
      section.ratios.append(
        Ratio(key: "build.cotar_over_gnu_tar", label: "Cotar / GNU tar -tf", value: cotarMedian / figure.median, target: 2))
    } else {
      section.notes.append("GNU tar not found on PATH; build.gnu_tar_entries_per_s skipped")
    }

    try measureMemory(corpus: corpus, repetitions: min(repetitions, 3), into: &section)
    return section
  }

  /// Peak RSS of a child that only builds the index, and of an idle child for the baseline.
  ///
  /// Each child prints its own `VmHWM` (peak RSS of its address space). `ru_maxrss` from
  /// `wait4` is not used: Linux carries the high-water mark across `execve`, and
  /// `posix_spawn` shares the parent's address space until the exec, so the child's
  /// `ru_maxrss` is never below the parent's peak (which holds the whole corpus layout).
  private static func measureMemory(corpus: Corpus, repetitions: Int, into section: inout Section) throws {
    let executable = Spawn.currentExecutable()
    var peaks: [Double] = []
    var baselines: [Double] = []
    for _ in 0..<repetitions {
      let build = try Spawn.run(executable, ["--child-build", corpus.tarPath], captureOutput: true)
      guard build.status == 0 else { throw BenchError("child build exited with status \(build.status)") }
      let idle = try Spawn.run(executable, ["--child-idle"], captureOutput: true)
      guard idle.status == 0 else { throw BenchError("idle child exited with status \(idle.status)") }
      guard let peak = UInt64(build.output.split(separator: "\n").last ?? ""),
        let baseline = UInt64(idle.output.split(separator: "\n").last ?? "")
      else { throw BenchError("a child did not report its VmHWM") }
      peaks.append(Double(peak))
      baselines.append(Double(baseline))
    }
    let indexBytes = Double(fileSize(corpus.indexPath) ?? 0)
    let budget = 64 * Double(corpus.entryCount) + indexBytes
    let used = zip(peaks, baselines).map { $0 - $1 }
    section.figures.append(Figure(key: "build.peak_rss_bytes", label: "peak RSS of a build child", unit: "bytes", samples: peaks))
    section.figures.append(
      Figure(key: "build.baseline_rss_bytes", label: "peak RSS of an idle child", unit: "bytes", samples: baselines))
    section.figures.append(
      Figure(key: "build.rss_over_baseline_bytes", label: "build RSS − idle RSS", unit: "bytes", samples: used))
    section.figures.append(
      Figure(
        key: "build.rss_over_baseline_bytes_per_entry", label: "build RSS − idle RSS per entry", unit: "B/entry",
        samples: used.map { $0 / Double(corpus.entryCount) }))
    section.figures.append(
      Figure(key: "build.rss_budget_bytes", label: "budget: 64 B/entry + index size", unit: "bytes", samples: [budget]))
    let median = Figure(key: "", label: "", unit: "", samples: used).median
    section.ratios.append(
      Ratio(key: "build.rss_budget_over_used", label: "RSS budget / (build − idle)", value: budget / median, target: 1))
  }

  /// The `--child-build PATH` mode: builds the index of `path` once and exits.
  static func childBuild(path: String) async throws {
    let result = try await CotarIndexBuilder.build(tar: FileSource(path: path), options: Corpus.indexOptions)
    print(result.index.stats.files)
    print(peakResidentBytes())
  }

  /// The `--child-idle` mode: starts the runtime, touches the async machinery, and exits.
  static func childIdle() async {
    let value = await Task { 1 }.value
    print(value)
    print(peakResidentBytes())
  }

  /// This process's peak resident set size (`VmHWM` in `/proc/self/status`), in bytes.
  static func peakResidentBytes() -> UInt64 {
    guard let status = try? readSmallFile("/proc/self/status"),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return 0 }
    let kilobytes = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { UInt64($0) } ?? 0
    return kilobytes * 1024
  }
}
