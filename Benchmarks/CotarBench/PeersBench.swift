/// The Python peers (`--peers`): `tarfile` listing and ratarmountcore's SQLite index build.
///
/// They run in one child Python process (the interpreter given by `--python`, which
/// `Benchmarks/peers.sh` points at its virtual environment); each repetition is timed inside
/// Python with `time.perf_counter` (or `time.process_time` with `--clock cpu`), so
/// interpreter start-up is not counted against them.
enum PeersBench {
  /// What the peers measured.
  struct Results {
    /// `tarfile.open(...).getmembers()` entries per second, one per repetition.
    var tarfileRates: [Double] = []
    /// `SQLiteIndexedTar(..., writeIndex=True)` entries per second, one per repetition.
    var ratarmountRates: [Double] = []
    /// Size of ratarmountcore's `.index.sqlite` file.
    var ratarmountIndexBytes: Double?
    /// Why something was skipped.
    var notes: [String] = []
  }

  /// The script run by the child interpreter; prints `name members seconds [index-bytes]` lines.
  static let script = """
    import os, sys, tarfile, time
    path, reps, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    clock = time.process_time if sys.argv[4] == "cpu" else time.perf_counter
    for _ in range(reps):
        start = clock()
        with tarfile.open(path, "r:") as archive:
            members = len(archive.getmembers())
        print("tarfile", members, clock() - start, flush=True)
    try:
        try:
            from ratarmountcore.mountsource.formats.tar import SQLiteIndexedTar
        except ImportError:
            from ratarmountcore import SQLiteIndexedTar
    except Exception as error:
        print("ratarmount-unavailable", repr(error).replace(" ", "_"), flush=True)
        sys.exit(0)
    index = os.path.join(workdir, "ratarmount.index.sqlite")
    for _ in range(reps):
        if os.path.exists(index):
            os.remove(index)
        start = clock()
        mounted = SQLiteIndexedTar(path, writeIndex=True, indexFilePath=index, clearIndexCache=True)
        elapsed = clock() - start
        members = len(mounted.list("/") or [])
        mounted.__exit__(None, None, None)
        print("ratarmount", members, elapsed, os.path.getsize(index), flush=True)
    """

  /// Runs the peers on the corpus tar with `python`.
  ///
  /// - Throws: `BenchError` when the script cannot be written or the interpreter not spawned.
  static func run(corpus: Corpus, repetitions: Int, python: String, clock: BenchClock) throws -> Results {
    var results = Results()
    guard Spawn.isAvailable(python) else {
      results.notes.append("\(python) not found; Python peers skipped (run Benchmarks/peers.sh)")
      return results
    }
    let scriptPath = corpus.directory + "/peers.py"
    try writeSmallFile(scriptPath, script)
    let child = try Spawn.run(
      python, [scriptPath, corpus.tarPath, String(repetitions), corpus.directory, clock.rawValue], captureOutput: true)
    let count = Double(corpus.entryCount)
    for line in child.output.split(separator: "\n") {
      let fields = line.split(separator: " ").map(String.init)
      switch fields.first {
      case "tarfile" where fields.count >= 3:
        if let seconds = Double(fields[2]) { results.tarfileRates.append(count / seconds) }
      case "ratarmount" where fields.count >= 4:
        if let seconds = Double(fields[2]) { results.ratarmountRates.append(count / seconds) }
        results.ratarmountIndexBytes = Double(fields[3])
      case "ratarmount-unavailable":
        results.notes.append("ratarmountcore not importable by \(python): \(fields.dropFirst().joined(separator: " "))")
      default:
        break
      }
    }
    if child.status != 0 { results.notes.append("\(python) peers script exited with status \(child.status)") }
    return results
  }

  /// Adds the peers' build figures and ratios to the build section.
  static func addBuildFigures(_ results: Results, to section: inout Section) {
    let cotar = section.figures.first { $0.key == "build.cotar_entries_per_s" }?.median ?? 0
    if !results.tarfileRates.isEmpty {
      let figure = Figure(
        key: "build.python_tarfile_entries_per_s", label: "Python tarfile getmembers()", unit: "entries/s",
        samples: results.tarfileRates)
      section.figures.append(figure)
      section.ratios.append(
        Ratio(key: "build.cotar_over_python_tarfile", label: "Cotar / Python tarfile", value: cotar / figure.median, target: nil))
    }
    if !results.ratarmountRates.isEmpty {
      let figure = Figure(
        key: "build.ratarmount_entries_per_s", label: "ratarmountcore SQLite index build", unit: "entries/s",
        samples: results.ratarmountRates)
      section.figures.append(figure)
      section.ratios.append(
        Ratio(key: "build.cotar_over_ratarmount", label: "Cotar / ratarmountcore", value: cotar / figure.median, target: 40))
    }
    section.notes += results.notes
  }

  /// Section 4: index bytes per entry, Cotar against ratarmountcore when measured.
  static func indexSizeSection(corpus: Corpus, peers: Results?) -> Section {
    var section = Section(key: "index_size", title: "4. Index size")
    let count = Double(corpus.entryCount)
    let cotar = Double(fileSize(corpus.indexPath) ?? 0)
    section.figures.append(
      Figure(key: "index_size.cotar_bytes_per_entry", label: "Cotar v2 (.tar.index)", unit: "B/entry", samples: [cotar / count]))
    if let bytes = peers?.ratarmountIndexBytes {
      section.figures.append(
        Figure(
          key: "index_size.ratarmount_bytes_per_entry", label: "ratarmountcore (.index.sqlite)", unit: "B/entry",
          samples: [bytes / count]))
      section.ratios.append(
        Ratio(key: "index_size.ratarmount_over_cotar", label: "ratarmountcore / Cotar", value: bytes / cotar, target: nil))
    } else {
      section.notes.append("ratarmountcore not measured (pass --peers, or run Benchmarks/peers.sh)")
    }
    return section
  }
}
