import ArgumentParser
import CotarCore
import CotarWriter

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
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

  @Flag(help: "For a symbolic link, print its target instead of following it (through the name table).")
  var noFollow = false

  func validate() throws {
    guard !paths.isEmpty || pathsFrom != nil else { throw ValidationError("give at least one entry path or --paths-from") }
    guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 1024, got \(concurrency)") }
    guard coalesceGap <= 1 << 30 else {
      throw ValidationError("--coalesce-gap must be at most 1073741824 (1 GiB), got \(coalesceGap)")
    }
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
      for (path, found) in zip(chunk, results) {
        // Not indexed: a symbolic link (or directory) the name table knows, if there is one.
        var bytes = found
        if bytes == nil { bytes = try await linkedBytes(path, in: cotar) }
        guard let bytes else {
          reportMissing(path)
          missing += 1
          continue
        }
        if let output {
          var info = stat()
          if stat(output, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            throw CotarError(
              .invalidArgument,
              "'\(output)' is a directory; with one PATH, -o names the output file (use -o \(output)/NAME), or pass --paths-from to extract entries into a directory",
              source: output)
          }
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

  /// Entries to `directory`/PATH, in batches, through ``SafeExtractor``: nothing is written
  /// outside the directory; a refused or failed entry is reported on its own and the rest go
  /// on (the exit status is then 1); the files are made durable once at the end.
  private func extract(_ wanted: [[UInt8]], from cotar: Cotar, into directory: String) async throws -> Int {
    var failed = 0
    let batch = BatchReadOptions(
      lookupConcurrency: concurrency, readConcurrency: concurrency, coalesceGap: coalesceGap)
    let extractor = try SafeExtractor(directory: directory, overwrite: force)
    var accepted: [[UInt8]] = []
    for path in wanted {
      do {
        _ = try SafeExtractor.components(of: path)
        accepted.append(path)
      } catch {
        printError("cotar: \(error)")
        failed += 1
      }
    }
    for chunk in accepted.chunked(1024) {
      let results = try await cotar.read(pathBytes: chunk, options: batch)
      for (path, bytes) in zip(chunk, results) {
        guard let bytes else {
          reportMissing(path)
          failed += 1
          continue
        }
        do {
          try extractor.write(bytes, to: path)
        } catch let error as CotarError {
          printError("cotar: \(error)")
          failed += 1
        }
      }
    }
    try extractor.finish()
    return failed
  }

  /// For a path the index does not hold: a symbolic link's target bytes (or, with
  /// `--no-follow`, the link text and a newline) through the name table; `nil` otherwise.
  private func linkedBytes(_ path: [UInt8], in cotar: Cotar) async throws -> [UInt8]? {
    guard let table = try await cotar.nameTable(), let entry = try await table.stat(pathBytes: path),
      entry.kind == .symbolicLink
    else { return nil }
    if noFollow { return (entry.linkTargetBytes ?? []) + [0x0A] }
    guard let target = try await table.resolvingSymlinks(pathBytes: path) else { return nil }
    return try await cotar.read(target)
  }

  private func reportMissing(_ path: [UInt8]) {
    printError("cotar: '\(String(decoding: path, as: UTF8.self))' is not in \(archive.archive)")
  }

  /// Lines of `file` (or standard input for `-`) as raw path bytes; empty lines are skipped.
  /// Any readable file works: a regular file, a pipe, a FIFO, `/dev/stdin` or `<(…)`.
  static func readPathList(_ file: String) async throws -> [[UInt8]] {
    let bytes: [UInt8]
    do {
      if file == "-" {
        bytes = try Syscall.readToEnd(0)
      } else {
        let fd = try Syscall.open(file, O_RDONLY)
        defer { Syscall.close(fd) }
        bytes = try Syscall.readToEnd(fd)
      }
    } catch {
      throw error.cotarError("cannot read the path list", source: file == "-" ? "standard input" : file)
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
