/// Command-line options of `cotar-bench` (parsed by hand, without ArgumentParser).
struct BenchArguments {
  /// Number of files in the corpus.
  var entries = 200_000
  /// Seed of the corpus and of the lookup paths.
  var seed: UInt64 = 42
  /// Where the corpus is written (and reused from).
  var directory = ".build/bench-data"
  /// Repetitions per figure (at least 5 for the medians the report quotes).
  var repetitions = 5
  /// Random lookups per repetition.
  var lookups = 10_000
  /// Hot remote lookups (and plain range GETs) per repetition and concurrency.
  var remoteLookups = 2_000
  /// Milliseconds the remote section's server waits before each batch answer.
  var latencyMilliseconds = 20
  /// Paths looked up by linear scan per repetition.
  var scans = 20
  /// Write the JSON report here.
  var jsonPath: String?
  /// Also run the Python peers.
  var peers = false
  /// The Python interpreter for the peers.
  var python = "python3"
  /// What times measure: wall time (default) or CPU time.
  var clock = BenchClock.wall
  /// Bytes of the large entry of the `large` section (1 GiB; 64 MiB under `--quick`).
  var largeBytes = 1 << 30
  /// Sections to run (`build`, `lookup`, `remote`, `size`, `large`); all when empty.
  var only: Set<String> = []
  /// Hidden child mode: build the index of this tar and exit.
  var childBuild: String?
  /// Hidden child mode: start and exit (baseline RSS).
  var childIdle = false

  static let usage = """
    usage: cotar-bench [--quick] [--entries N] [--seed S] [--dir DIR] [--repetitions R]
                       [--lookups N] [--remote-lookups N] [--latency-ms MS] [--scans N] [--json FILE] [--peers]
                       [--python PATH] [--only LIST] [--clock wall|cpu] [--large-mib N]

      --quick          20,000 entries (unless --entries is given) and a 64 MiB large entry: a smoke run
      --entries N      files in the generated corpus (default 200000)
      --seed S         seed of the corpus and of the lookup paths (default 42)
      --dir DIR        where the corpus is written and reused (default .build/bench-data)
      --repetitions R  runs per figure; the table shows median, min and max (default 5, min 5)
      --lookups N      random lookups per run (default 10000)
      --remote-lookups N  hot lookups over HTTP per run and concurrency (default 2000)
      --latency-ms MS  delay of every server answer in the remote batch figures (default 20)
      --scans N        paths found by linear scan per run (default 20)
      --json FILE      also write the results as JSON (schema in Benchmarks/README.md)
      --peers          also measure Python tarfile and ratarmountcore (see Benchmarks/peers.sh)
      --python PATH    interpreter for --peers (default python3)
      --only LIST      run only these sections, comma-separated: build,lookup,remote,size,large,listing,gzip
      --large-mib N    size of the large section's entry in MiB (default 1024, 64 with --quick)
      --clock wall|cpu time in wall-clock seconds (default) or in CPU seconds (user + system,
                       children included): steadier on a machine shared with other work
    """

  /// Parses `arguments` (without the program name).
  ///
  /// - Throws: `BenchError` with the usage text on an unknown option or a bad value.
  init(parsing arguments: [String]) throws {
    defer { if only.isEmpty { only = ["build", "lookup", "remote", "size", "large", "listing", "gzip"] } }
    var quick = false
    var entriesGiven = false
    var largeGiven = false
    var remaining = arguments[...]
    func value(_ option: String) throws -> String {
      guard let next = remaining.popFirst() else { throw BenchError("\(option) needs a value\n\n\(Self.usage)") }
      return next
    }
    func number<T: FixedWidthInteger>(_ option: String, minimum: T) throws -> T {
      let text = try value(option)
      guard let parsed = T(text.replacingOccurrences(of: "_", with: "")), parsed >= minimum else {
        throw BenchError("\(option) needs an integer ≥ \(minimum), got '\(text)'")
      }
      return parsed
    }
    while let argument = remaining.popFirst() {
      switch argument {
      case "--quick": quick = true
      case "--entries":
        entries = try number(argument, minimum: 1)
        entriesGiven = true
      case "--seed": seed = try number(argument, minimum: 0)
      case "--dir": directory = try value(argument)
      case "--repetitions": repetitions = try number(argument, minimum: 5)
      case "--lookups": lookups = try number(argument, minimum: 1)
      case "--remote-lookups": remoteLookups = try number(argument, minimum: 1)
      case "--latency-ms": latencyMilliseconds = try number(argument, minimum: 0)
      case "--scans": scans = try number(argument, minimum: 1)
      case "--json": jsonPath = try value(argument)
      case "--peers": peers = true
      case "--python": python = try value(argument)
      case "--clock":
        let text = try value(argument)
        guard let parsed = BenchClock(rawValue: text) else { throw BenchError("--clock needs wall or cpu, got '\(text)'") }
        clock = parsed
      case "--only": only = Set(try value(argument).split(separator: ",").map(String.init))
      case "--large-mib":
        largeBytes = try number(argument, minimum: 1) << 20
        largeGiven = true
      case "--child-build": childBuild = try value(argument)
      case "--child-idle": childIdle = true
      case "-h", "--help": throw BenchError(Self.usage)
      default: throw BenchError("unknown option '\(argument)'\n\n\(Self.usage)")
      }
    }
    if quick && !entriesGiven { entries = 20_000 }
    if quick && !largeGiven { largeBytes = 64 << 20 }
  }
}

extension String {
  /// A copy with every occurrence of `target` replaced (Foundation-free).
  func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
