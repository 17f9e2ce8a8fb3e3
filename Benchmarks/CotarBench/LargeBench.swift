import CotarCore
import CotarTestSupport
import CotarWriter

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Section "large": one large entry (1 GiB; 64 MiB under `--quick`) written to a file by
/// `cotar get`, as a child process so its time and peak RSS are its own.
///
/// * local: `cotar get large.tar.co large.bin -o OUT` against `cp large.bin OUT`;
/// * remote: the same `get` from the in-process HTTP server against one plain GET of the
///   entry's bytes by `curl -r` (a single request, no lookup) into a file.
///
/// The data is generated at run time under `DIR/large/` (never in git) and reused.
enum LargeBench {
  /// Runs the section.
  ///
  /// - Throws: `BenchError` when the data cannot be generated or a child fails.
  static func run(directory: String, size: Int, repetitions: Int) async throws -> Section {
    var section = Section(key: "large", title: "4b/4 large entry (\(size >> 20) MiB) to a file")
    let cotar = executableBeside("cotar")
    guard access(cotar, X_OK) == 0 else {
      section.unavailableReason = "no cotar executable beside the bench (build the cotar product)"
      return section
    }
    let folder = directory + "/large"
    _ = mkdir(directory, 0o755)
    _ = mkdir(folder, 0o755)
    let (archive, entry) = try await prepare(folder: folder, size: size)
    let dataPath = folder + "/large.bin"
    let output = folder + "/out.bin"
    try warmPageCache(archive)
    try warmPageCache(dataPath)

    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    try await server.putFile("large.tar.co", path: archive)
    let url = server.url("large.tar.co")
    let hasCurl = Spawn.isAvailable("curl")

    var local: [Double] = []
    var copy: [Double] = []
    var remote: [Double] = []
    var plainGet: [Double] = []
    var localRSS: [Double] = []
    var remoteRSS: [Double] = []
    let rounds = max(3, min(repetitions, 5))
    for _ in 0..<rounds {
      unlink(output)
      let got = try measured(cotar, ["get", archive, "large.bin", "-o", output, "--force"], "cotar get", folder: folder)
      try verify(output, size: size)
      local.append(got.seconds)
      localRSS.append(Double(got.peakRSSBytes))

      unlink(output)
      copy.append(try check(Spawn.run("cp", [dataPath, output]), "cp").seconds)

      unlink(output)
      let fetched = try measured(cotar, ["get", url, "large.bin", "-o", output, "--force"], "cotar get (HTTP)", folder: folder)
      try verify(output, size: size)
      remote.append(fetched.seconds)
      remoteRSS.append(Double(fetched.peakRSSBytes))

      if hasCurl {
        unlink(output)
        let range = "\(entry.offset)-\(entry.offset + entry.size - 1)"
        plainGet.append(try check(Spawn.run("curl", ["-sf", "-r", range, "-o", output, url]), "curl").seconds)
      }
    }
    unlink(output)

    section.figures = [
      Figure(key: "large.local_seconds", label: "cotar get, local .tar.co", unit: "s", samples: local),
      Figure(key: "large.cp_seconds", label: "cp of the same bytes", unit: "s", samples: copy),
      Figure(key: "large.remote_seconds", label: "cotar get over HTTP", unit: "s", samples: remote),
      Figure(key: "large.local_peak_rss_bytes", label: "peak RSS, cotar get local", unit: "bytes", samples: localRSS),
      Figure(key: "large.remote_peak_rss_bytes", label: "peak RSS, cotar get HTTP", unit: "bytes", samples: remoteRSS),
      Figure(
        key: "large.peak_rss_bytes", label: "peak RSS, cotar get (either)", unit: "bytes",
        samples: zip(localRSS, remoteRSS).map { max($0, $1) }),
    ]
    section.ratios = [
      Ratio(key: "large.local_vs_cp", label: "speed vs cp (cp time / get time)", value: ratio(copy, local), target: nil)
    ]
    if hasCurl {
      section.figures.insert(
        Figure(key: "large.get_seconds", label: "one plain GET (curl -r)", unit: "s", samples: plainGet), at: 3)
      section.ratios.append(
        Ratio(
          key: "large.remote_vs_get", label: "speed vs one GET (GET time / get time)", value: ratio(plainGet, remote),
          target: nil))
    } else {
      section.notes.append("curl not found: large.remote_vs_get not measured")
    }
    section.notes.append(
      "peak RSS is cotar's own (GNU time %M); the entry is \(size) bytes (the Done-when bound is 100 MB for 1 GB)")
    return section
  }

  /// The median of `numerator` over the median of `denominator`.
  private static func ratio(_ numerator: [Double], _ denominator: [Double]) -> Double {
    let top = Figure(key: "", label: "", unit: "", samples: numerator).median
    let bottom = Figure(key: "", label: "", unit: "", samples: denominator).median
    return bottom > 0 ? top / bottom : .nan
  }

  /// Runs `program` and returns its time and its own peak RSS.
  ///
  /// `posix_spawn` starts the child with `vfork` semantics, so the `ru_maxrss` that `wait4`
  /// reports counts the bench's own memory (here the in-process server's buffers) as the
  /// child's. Under GNU `/usr/bin/time -f %M`, which `fork`s from a small process, the
  /// figure is the program's own; without it, `ru_maxrss` is used as is.
  private static func measured(_ program: String, _ arguments: [String], _ what: String, folder: String) throws
    -> ChildResult
  {
    let time = "/usr/bin/time"
    guard access(time, X_OK) == 0 else { return try check(Spawn.run(program, arguments), what) }
    let report = folder + "/time.txt"
    var result = try check(Spawn.run(time, ["-f", "%M", "-o", report, program] + arguments), what)
    guard let text = try? readSmallFile(report), let kilobytes = UInt64(text.split(separator: "\n").last ?? "") else {
      throw BenchError("cannot read the peak RSS from \(report)")
    }
    result.peakRSSBytes = kilobytes * 1024
    unlink(report)
    return result
  }

  /// `result`, or a `BenchError` when the child failed.
  private static func check(_ result: ChildResult, _ what: String) throws -> ChildResult {
    guard result.status == 0 else { throw BenchError("\(what) exited with status \(result.status)") }
    return result
  }

  /// Throws unless `path` holds `size` bytes.
  private static func verify(_ path: String, size: Int) throws {
    guard fileSize(path) == UInt64(size) else {
      throw BenchError("\(path) has \(fileSize(path).map(String.init) ?? "no") bytes, \(size) expected")
    }
  }

  /// `name` in the directory of the running bench (both products build into one folder).
  static func executableBeside(_ name: String) -> String {
    let me = Spawn.currentExecutable()
    guard let slash = me.lastIndex(of: "/") else { return name }
    return String(me[...slash]) + name
  }

  /// Writes (or reuses) `large.bin` of `size` bytes, `large.tar` holding it (GNU tar) and
  /// `large.tar.co`; returns the `.tar.co` path and the entry.
  private static func prepare(folder: String, size: Int) async throws -> (String, CotarEntry) {
    let dataPath = folder + "/large.bin"
    let archive = folder + "/large.tar.co"
    if fileSize(dataPath) != UInt64(size) {
      log("    generating \(dataPath) (\(size) bytes)")
      let file = try OutputFile(path: dataPath)
      var generator = SplitMix64(seed: 19)
      var block = [UInt8](repeating: 0, count: 1 << 20)
      for index in stride(from: 0, to: block.count, by: 8) {
        let word = generator.next()
        for byte in 0..<8 { block[index + byte] = UInt8(truncatingIfNeeded: word >> (8 * byte)) }
      }
      var written = 0
      var mebibyte: UInt64 = 0
      while written < size {
        // Every MiB differs from the others (its number in its first 8 bytes).
        withUnsafeBytes(of: mebibyte.littleEndian) { block.replaceSubrange(0..<8, with: $0) }
        let count = min(block.count, size - written)
        try file.append(block, count: count)
        written += count
        mebibyte += 1
      }
      try file.close()
      unlink(archive)
    }
    if fileSize(archive) == nil {
      log("    building \(archive)")
      let tarPath = folder + "/large.tar"
      let tar = try Spawn.run("tar", ["--format=gnu", "-cf", tarPath, "-C", folder, "large.bin"])
      guard tar.status == 0 else { throw BenchError("tar exited with status \(tar.status)") }
      let source = try FileSource(path: tarPath)
      let built = try await CotarIndexBuilder.build(tar: source)
      let writer = try AtomicFileWriter(destination: archive, overwrite: true)
      try writer.copyPrefix(ofFile: tarPath, length: try await source.size())
      try writer.write(built.index.bytes)
      try writer.commit()
      unlink(tarPath)
    }
    let opened = try await Cotar.open(try FileSource(path: archive))
    guard let entry = try await opened.entry("large.bin"), entry.size == UInt64(size) else {
      throw BenchError("\(archive) has no large.bin of \(size) bytes; delete it to rebuild")
    }
    return (archive, entry)
  }
}
