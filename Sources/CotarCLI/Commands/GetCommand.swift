import ArgumentParser
import CotarCore
import CotarWriter

#if canImport(Glibc)
  import Glibc
#endif

/// `cotar get ARCHIVE PATH...`: writes entries' bytes to stdout, a file, or a directory.
struct GetCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "get",
    abstract: "Write the bytes of one or more entries to standard output, a file, or a directory.",
    discussion: """
      With one PATH, -o names the output file. With several PATHs or --paths-from, -o names a \
      directory and each entry is written under it at its own path; entries are then looked \
      up concurrently and neighbouring data is fetched with one read (see --coalesce-gap).
      """)

  @OptionGroup var archive: ArchiveArguments

  @Argument(help: "Entry paths, exactly as stored in the tar.")
  var paths: [String] = []

  @Option(help: "Read entry paths from this file, one per line ('-' for standard input).", completion: .file())
  var pathsFrom: String?

  @Option(name: .shortAndLong, help: "Output file (one PATH) or directory (several PATHs or --paths-from).")
  var output: String?

  @Flag(help: "Replace output files that exist.")
  var force = false

  @Option(help: "Entries whose data is at most this many bytes apart are fetched with one read.")
  var coalesceGap: UInt64 = 64 << 10

  @Option(help: "Lookups and reads in flight at once in batch mode.")
  var concurrency: Int = 16

  func validate() throws {
    guard !paths.isEmpty || pathsFrom != nil else { throw ValidationError("give at least one entry path or --paths-from") }
    guard concurrency >= 1 else { throw ValidationError("--concurrency must be ≥ 1") }
  }

  private var isBatch: Bool { paths.count > 1 || pathsFrom != nil }

  func run() async throws {
    var wanted = paths.map(rawArgumentBytes)
    if let pathsFrom { wanted += try await Self.readPathList(pathsFrom) }
    let missing = try await archive.withArchive(connections: concurrency) { location in
      let cotar = try await location.open()
      if isBatch, let output { return try await extract(wanted, from: cotar, into: output) }
      return try await write(wanted, from: cotar)
    }
    if missing > 0 { throw ExitCode.failure }
  }

  /// One entry to a file, or entries one after another to standard output.
  private func write(_ wanted: [[UInt8]], from cotar: Cotar) async throws -> Int {
    var missing = 0
    let batch = BatchReadOptions(
      lookupConcurrency: concurrency, readConcurrency: concurrency, coalesceGap: coalesceGap)
    for chunk in wanted.chunked(1024) {
      let results =
        chunk.count == 1 ? [try await cotar.read(pathBytes: chunk[0])] : try await cotar.read(pathBytes: chunk, options: batch)
      for (path, bytes) in zip(chunk, results) {
        guard let bytes else {
          reportMissing(path)
          missing += 1
          continue
        }
        if let output {
          let writer = try AtomicFileWriter(destination: output, overwrite: force)
          try writer.write(bytes)
          try writer.commit()
        } else {
          try writeStandardOutput(bytes)
        }
      }
    }
    return missing
  }

  /// Entries to `directory`/PATH, in batches.
  private func extract(_ wanted: [[UInt8]], from cotar: Cotar, into directory: String) async throws -> Int {
    var missing = 0
    let batch = BatchReadOptions(
      lookupConcurrency: concurrency, readConcurrency: concurrency, coalesceGap: coalesceGap)
    for chunk in wanted.chunked(1024) {
      let results = try await cotar.read(pathBytes: chunk, options: batch)
      for (path, bytes) in zip(chunk, results) {
        guard let bytes else {
          reportMissing(path)
          missing += 1
          continue
        }
        let destination = try Self.destination(for: path, under: directory)
        let writer = try AtomicFileWriter(destination: destination, overwrite: force)
        try writer.write(bytes)
        try writer.commit()
      }
    }
    return missing
  }

  private func reportMissing(_ path: [UInt8]) {
    printError("cotar: '\(String(decoding: path, as: UTF8.self))' is not in \(archive.archive)")
  }

  /// `directory/path`, creating parent directories; refuses absolute paths and `..`.
  static func destination(for path: [UInt8], under directory: String) throws -> String {
    let text = String(decoding: path, as: UTF8.self)
    let components = text.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
    guard !text.hasPrefix("/"), !components.isEmpty, !components.contains("..") else {
      throw CotarError(.invalidArgument, "refusing to write entry '\(text)' outside the output directory", path: text)
    }
    var current = directory
    try makeDirectory(current)
    for component in components.dropLast() {
      current += "/" + component
      try makeDirectory(current)
    }
    return current + "/" + (components.last.map(String.init) ?? "")
  }

  private static func makeDirectory(_ path: String) throws {
    if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
    throw CotarError(.io, "cannot create directory: \(String(cString: strerror(errno)))", source: path)
  }

  /// Lines of `file` (or standard input for `-`) as raw path bytes; empty lines are skipped.
  static func readPathList(_ file: String) async throws -> [[UInt8]] {
    let bytes: [UInt8]
    if file == "-" {
      var all: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 1 << 16)
      while true {
        let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { break }
        all += buffer[0..<n]
      }
      bytes = all
    } else {
      let source = try FileSource(path: file)
      bytes = try source.readSync(0..<(try await source.size()))
    }
    return bytes.split(separator: 0x0A).map { line in
      Array(line.last == 0x0D ? line.dropLast() : line)
    }.filter { !$0.isEmpty }
  }
}

extension Array {
  /// Consecutive slices of at most `size` elements.
  func chunked(_ size: Int) -> [[Element]] {
    stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
  }
}
