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
      Without -o, the bytes go to standard output. With one PATH, -o names the output file. With several PATHs or --paths-from, -o names a \
      directory and each entry is written under it at its own path; entries are then looked \
      up concurrently, read in archive order (each stretch of the archive once) and \
      neighbouring data is fetched with one read (see --coalesce-gap).
      ARCHIVE may also be a `cotar pack` manifest (NAME.manifest.json: a path, an http(s):// \
      URL or s3://bucket/key); each PATH is then read from the shard whose path range holds \
      it, shards being looked for beside the manifest.
      """)

  @OptionGroup var archive: ArchiveArguments

  @Argument(help: "Entry paths, exactly as stored in the tar.")
  var paths: [String] = []

  @Option(
    help: ArgumentHelp(
      "Read entry paths from this file, one per line ('-' for standard input).",
      discussion: "Escapes as cotar ls and GNU tar print them (\\n, \\t, \\033, \\\\) are decoded; with --null the paths are separated by NUL and taken byte for byte."),
    completion: .file())
  var pathsFrom: String?

  @Flag(help: "--paths-from is NUL-separated (as cotar ls --null, find -print0) and not unescaped.")
  var null = false

  @OptionGroup var outputOptions: OutputOptions

  @Option(help: ArgumentHelp("Entries whose data is at most this far apart are fetched with one read (bytes or a size such as 1MiB).", valueName: "size"))
  var coalesceGap = ByteCount(64 << 10)

  @Option(help: "Lookups and reads in flight at once in batch mode.")
  var concurrency: Int = 16

  @Flag(help: "For a symbolic link, print its target instead of following it (through the name table).")
  var noFollow = false

  func validate() throws {
    guard !paths.isEmpty || pathsFrom != nil else { throw ValidationError("give at least one entry path or --paths-from") }
    guard !null || pathsFrom != nil else { throw ValidationError("--null is for --paths-from; give --paths-from FILE") }
    guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 1024, got \(concurrency)") }
    guard coalesceGap.bytes <= 1 << 30 else {
      throw ValidationError("--coalesce-gap must be at most 1GiB, got \(coalesceGap.bytes) bytes")
    }
  }

  private var output: String? { outputOptions.output }
  private var force: Bool { outputOptions.force }

  private var isBatch: Bool { paths.count > 1 || pathsFrom != nil }

  func run() async throws {
    var wanted = paths.map(rawArgumentBytes)
    if let pathsFrom { wanted += try await Self.readPathList(pathsFrom, nullSeparated: null) }
    if CotarShardSet.isManifest(archive.archive) {
      if try await readShardSet(wanted) > 0 { throw ExitCode.failure }
      return
    }
    let missing = try await archive.withArchive(connections: concurrency) { location in
      // A scanned tar's name table says why a path gave no bytes (a directory, a FIFO…) and
      // lets symbolic links be followed, as an index's table does.
      let indexed = try await location.openIndexingPlainTar(named: archive.archive, withNames: true)
      let cotar = indexed.cotar
      if isBatch, let output {
        return try await extract(
          [(cotar, wanted)], into: output, beyondIndex: indexed.beyondIndex, scannedNames: indexed.scannedNames)
      }
      return try await write(wanted, from: cotar, beyondIndex: indexed.beyondIndex, scannedNames: indexed.scannedNames)
    }
    if missing > 0 { throw ExitCode.failure }
  }

  typealias Payload = EntryFetcher.Payload

  /// The `X.tar.names` of a local plain tar (beside its `X.tar.index`, given or guessed),
  /// when it exists: `get` reads symbolic links and reasons for a miss from it.
  private var localNamesSidecar: String? {
    guard !SourceResolver.isRemote(archive.archive) else { return nil }
    let path = namesSidecarPath(forIndex: archive.index ?? archive.archive + ".index")
    return access(path, F_OK) == 0 ? path : nil
  }

  /// `get` through a `cotar pack` manifest (path, URL or `s3://`): each path is looked up in
  /// the shard whose path range holds it; shards are opened on first use. Entries go out in
  /// the order given (to standard output) or are extracted shard by shard (`-o DIR`).
  ///
  /// - Returns: how many paths were missing or failed.
  /// - Throws: `CotarError` for an unreadable manifest or shard.
  private func readShardSet(_ wanted: [[UInt8]]) async throws -> Int {
    if archive.index != nil {
      throw CotarError(.invalidArgument, "--index does not apply to a shard-set manifest", source: archive.shown)
    }
    let remote = archive.remote
    return try await remote.withSession(needed: SourceResolver.isRemote(archive.archive), connections: concurrency) { session in
      let set = try await CotarShardSet.open(location: archive.archive, resolver: session.resolver, options: remote.openOptions)
      let shards = wanted.map { set.shardIndex(for: $0) }
      var missing = 0
      for path in zip(wanted, shards).filter({ $0.1 == nil }).map(\.0) {
        reportMissing(path)
        missing += 1
      }
      if isBatch, let output {
        var groups: [(Cotar, [[UInt8]])] = []
        for shard in Set(shards.compactMap { $0 }).sorted() {
          groups.append((try await set.archive(shard: shard), zip(wanted, shards).filter { $0.1 == shard }.map(\.0)))
        }
        return missing + (try await extract(groups, into: output))
      }
      // Consecutive paths of one shard together, keeping the order given.
      var start = 0
      while start < wanted.count {
        var end = start + 1
        while end < wanted.count, shards[end] == shards[start] { end += 1 }
        if let shard = shards[start] {
          missing += try await write(Array(wanted[start..<end]), from: try await set.archive(shard: shard))
        }
        start = end
      }
      return missing
    }
  }

  /// Calls `body` for every path of `wanted` through ``EntryFetcher`` (the read path
  /// `extract` shares): paths are located 1024 at a time; a path the index does not hold may
  /// be a symbolic link the name table knows (followed inside the archive). In the order of
  /// `wanted`, or with `inArchiveOrder` (writing to a directory) in the order of the entries'
  /// data, so each batch reads one stretch of the archive and no stretch twice (a `.tar.gz`
  /// span is fetched once). `beyondIndex`: files of a plain tar scanned in memory that its
  /// index leaves out (4 GiB or more), streamed from there.
  private func forEachEntry(
    _ wanted: [[UInt8]], from cotar: Cotar, beyondIndex: [[UInt8]: CotarEntry] = [:], scannedNames: NameTable? = nil,
    inArchiveOrder: Bool = false,
    _ body: ([UInt8], Payload, OnceNameTable) async throws -> Void
  ) async throws {
    let batch = BatchReadOptions(
      lookupConcurrency: concurrency, readConcurrency: concurrency, coalesceGap: coalesceGap.bytes)
    let fetcher = EntryFetcher(cotar: cotar, options: batch)
    // Opened once for every path of this archive (symbolic links, reasons for a miss).
    let table =
      scannedNames.map { OnceNameTable(cotar, scanned: $0) }
      ?? OnceNameTable(cotar, sidecar: cotar.dataLimit == nil ? localNamesSidecar : nil)
    func locate(_ chunk: [[UInt8]]) async throws -> [CotarEntry?] {
      guard chunk.count > 1 else { return [try await cotar.entry(pathBytes: chunk[0])] }
      return try await cotar.entries(
        pathBytes: chunk, concurrency: concurrency, indexReads: batch.indexReads, indexGap: coalesceGap.bytes)
    }
    func fetch(_ chunk: [[UInt8]], _ located: [CotarEntry?]) async throws {
      try await fetcher.forEach(located, paths: chunk) { position, payload in
        if case .missing = payload, let big = beyondIndex[chunk[position]] {
          try await body(chunk[position], .stream(big), table)
        } else if case .missing = payload, let linked = try await linkedBytes(chunk[position], in: cotar, table: table) {
          try await body(chunk[position], .bytes(linked), table)
        } else {
          try await body(chunk[position], payload, table)
        }
      }
    }
    guard inArchiveOrder else {
      for chunk in wanted.chunked(EntryFetcher.batchCount) { try await fetch(chunk, try await locate(chunk)) }
      return
    }
    var all: [(path: [UInt8], entry: CotarEntry?)] = []
    all.reserveCapacity(wanted.count)
    for chunk in wanted.chunked(EntryFetcher.batchCount) {
      all += zip(chunk, try await locate(chunk)).map { (path: $0, entry: $1) }
    }
    // Paths the index does not hold go last, in the order given.
    let ordered = all.enumerated().sorted {
      ($0.element.entry?.offset ?? .max, $0.offset) < ($1.element.entry?.offset ?? .max, $1.offset)
    }.map(\.element)
    for part in ordered.chunked(EntryFetcher.batchCount) { try await fetch(part.map(\.path), part.map(\.entry)) }
  }

  /// One entry to a file, or entries one after another to standard output.
  private func write(
    _ wanted: [[UInt8]], from cotar: Cotar, beyondIndex: [[UInt8]: CotarEntry] = [:], scannedNames: NameTable? = nil
  ) async throws -> Int {
    var missing = 0
    try await forEachEntry(wanted, from: cotar, beyondIndex: beyondIndex, scannedNames: scannedNames) { path, payload, table in
      if case .missing = payload {
        try await reportMissing(path, in: cotar, table: table)
        missing += 1
        return
      }
      if let output {
        var info = stat()
        if stat(output, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
          throw CotarError(
            .invalidArgument,
            "'\(output)' is a directory; with one PATH, -o names the output file: use -o \(output)/NAME, or give several PATHs (or --paths-from) to write each entry under it, or cotar extract ARCHIVE PATH -o \(output)",
            source: output)
        }
        if case .failed(let damage) = payload { throw damage }
        let writer = try AtomicFileWriter(destination: output, overwrite: force)
        switch payload {
        case .bytes(let bytes): try writer.write(bytes)
        case .stream(let entry): try await stream(path, entry) { try await writer.write(entry, of: cotar, progress: $0) }
        case .missing, .failed: break
        }
        try writer.commit()
      } else {
        switch payload {
        case .bytes(let bytes): try writeStandardOutput(bytes)
        case .stream(let entry):
          try await stream(path, entry) {
            try await cotar.read(entry, toFileDescriptor: 1, named: "standard output", progress: $0)
          }
        case .missing: break
        // Entries go out one after another: a damaged one stops the output.
        case .failed(let damage): throw damage
        }
      }
    }
    return missing
  }

  /// Runs one streamed write with a progress bar on a terminal.
  private func stream(
    _ path: [UInt8], _ entry: CotarEntry, _ body: (((UInt64) -> Void)?) async throws -> Void
  ) async throws {
    let bar = TransferProgress.make(String(decoding: path, as: UTF8.self), total: entry.size)
    defer { bar?.finish() }
    try await EntryFetcher.naming(path) { try await body(bar.map { bar in { bar.update($0) } }) }
  }

  /// Entries (of one archive, or of several shards) to `directory`/PATH, in batches, through ``SafeExtractor``: nothing is written
  /// outside the directory; a refused or failed entry is reported on its own and the rest go
  /// on (the exit status is then 1); large entries are streamed; the files are made durable
  /// once at the end.
  private func extract(
    _ groups: [(Cotar, [[UInt8]])], into directory: String, beyondIndex: [[UInt8]: CotarEntry] = [:],
    scannedNames: NameTable? = nil
  ) async throws -> Int {
    var failed = 0
    let extractor = try SafeExtractor(directory: directory, overwrite: force)
    // The path given first for each output file: a path given twice (or `f` and `./f`,
    // which name the same file under DIR) is written once, with a note.
    var outputs: [[[UInt8]]: [UInt8]] = [:]
    for (cotar, wanted) in groups {
      var accepted: [[UInt8]] = []
      for path in wanted {
        do {
          let parts = try SafeExtractor.components(of: path)
          if let first = outputs[parts] {
            let shown = String(decoding: escapedName(path), as: UTF8.self)
            let again =
              first == path
              ? "'\(shown)' was given more than once"
              : "'\(shown)' names the same output file as '\(String(decoding: escapedName(first), as: UTF8.self))'"
            printError("cotar: note: \(again); it is written once, from the first")
            continue
          }
          outputs[parts] = path
          accepted.append(path)
        } catch {
          printError("cotar: \(error)")
          failed += 1
        }
      }
      try await forEachEntry(
        accepted, from: cotar, beyondIndex: beyondIndex, scannedNames: scannedNames, inArchiveOrder: true
      ) { path, payload, table in
        do {
          switch payload {
          case .missing:
            try await reportMissing(path, in: cotar, table: table)
            failed += 1
          case .bytes(let bytes):
            try extractor.write(bytes, to: path)
          case .stream(let entry):
            try await stream(path, entry) { try await extractor.write(entry, of: cotar, to: path, progress: $0) }
          case .failed(let damage):
            throw damage
          }
        } catch let error as CotarError where !error.invalidatesArchive {
          printError("cotar: \(error)")
          failed += 1
        }
      }
    }
    try extractor.finish()
    return failed
  }

  /// For a path the index does not hold: a symbolic link's target bytes (or, with
  /// `--no-follow`, the link text and a newline) through the name table, also when a
  /// directory on the way is a symbolic link (`dl/g` with `dl -> d`); `nil` otherwise.
  private func linkedBytes(_ path: [UInt8], in cotar: Cotar, table: OnceNameTable) async throws -> [UInt8]? {
    guard let table = try await table.value(),
      let entry = try await table.resolvingSymlinks(pathBytes: path, followingLastLink: false)
    else { return nil }
    // A hard link to a symbolic link (SPEC §6) is read as that symbolic link.
    let text = entry.kind == .symbolicLink ? entry.linkTargetBytes ?? [] : try await table.symbolicLinkText(ofHardLink: entry)
    if let text, noFollow { return text + [0x0A] }
    // The path itself, not a link: the index does not hold it (a directory, or a stale table).
    guard text != nil || entry.pathBytes != path else { return nil }
    // A directory (reached as `d` for `d/`, or through links) is said to be one by reportMissing.
    guard let target = try await table.resolvingSymlinks(pathBytes: entry.pathBytes), target.kind != .directory else {
      return nil
    }
    return try await cotar.read(target, in: table)
  }

  /// Says that `path` is in no shard of a shard set.
  private func reportMissing(_ path: [UInt8]) {
    printError("cotar: '\(String(decoding: escapedName(path), as: UTF8.self))' is not in \(archive.shown)")
  }

  /// Says why `path` gave no bytes: a directory, a dangling symbolic link or a special member
  /// (device, FIFO, sparse file, …) when the name table knows it, else not in the archive, with "did you mean './bin/cat'?" when another
  /// spelling of the path is there.
  private func reportMissing(_ path: [UInt8], in cotar: Cotar, table once: OnceNameTable) async throws {
    let text = String(decoding: escapedName(path), as: UTF8.self)
    // The table opened once for this archive (its decoded blocks are kept).
    let table = try? await once.value()
    var known = try? await table?.stat(pathBytes: path)
    if known == nil { known = try? await table?.stat(pathBytes: path + [0x2F]) }
    // Through symbolic links (the path's own or its directories'), a directory is said to be one.
    let resolved = try? await table?.resolvingSymlinks(pathBytes: path)
    let isDirectory: Bool
    if let resolved = resolved ?? nil, resolved.kind == .directory {
      isDirectory = true
    } else if let known = known ?? nil {
      if known.kind == .symbolicLink {
        printError("cotar: '\(text)' is a symlink to '\(known.linkTarget ?? "")', which is not in \(archive.shown)")
        return
      }
      if known.kind == .other {
        printError(
          "cotar: '\(text)' is in \(archive.shown), but not as a file, directory or link: it is \(specialMemberKinds), which has no data get can read (cotar ls \(archive.shownAgain) --tar-order --long shows its kind; extract such members with GNU tar)")
        return
      }
      isDirectory = known.kind == .directory
    } else if let table, case let prefix = NameTable.directoryPrefix(path), !prefix.isEmpty {
      // A directory with no member of its own (a tar made without directory members):
      // paths below it are in the table.
      isDirectory = try await table.hasEntry(withPrefix: prefix)
    } else {
      isDirectory = false
    }
    if isDirectory {
      printError(
        "cotar: '\(text)' is a directory in \(archive.shown); get reads files (use cotar extract \(archive.shownAgain) '\(text)' -o DIR)")
      return
    }
    // With a table, it lists every member: the other spellings are looked up there only.
    let hint = try await didYouMean(path) { candidate in
      if let table { return try await table.stat(pathBytes: candidate) != nil }
      return try await cotar.entry(pathBytes: candidate) != nil
    }
    printError("cotar: '\(text)' is not in \(archive.shown)\(hint)")
  }

  /// Lines of `file` (or standard input for `-`) as path bytes, with the escapes `cotar ls`
  /// prints decoded (``unescapedName(_:)``); with `nullSeparated`, NUL-separated raw paths.
  /// Empty paths are skipped. Any readable file works: a regular file, a pipe, a FIFO,
  /// `/dev/stdin` or `<(…)`.
  static func readPathList(_ file: String, nullSeparated: Bool = false) async throws -> [[UInt8]] {
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
    if nullSeparated { return bytes.split(separator: 0).map { Array($0) } }
    return bytes.split(separator: 0x0A).map { line in
      unescapedName(line.last == 0x0D ? line.dropLast() : line)
    }.filter { !$0.isEmpty }
  }
}

extension Array {
  /// Consecutive slices of at most `size` elements.
  func chunked(_ size: Int) -> [[Element]] {
    stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
  }
}

/// The name table of one archive, opened on first use and then reused, so that following
/// symbolic links and explaining missing paths read its trailer and block index once.
actor OnceNameTable {
  private let cotar: Cotar
  private let sidecar: String?
  private var opened: Result<NameTable?, any Error>?

  /// Wraps `cotar` and, for a plain tar, the path of its local `X.tar.names` `sidecar`;
  /// reads nothing yet.
  init(_ cotar: Cotar, sidecar: String? = nil) {
    self.cotar = cotar
    self.sidecar = sidecar
  }

  /// Wraps `cotar` with the name table a scan of the plain tar built in memory.
  init(_ cotar: Cotar, scanned table: NameTable) {
    self.cotar = cotar
    self.sidecar = nil
    self.opened = .success(table)
  }

  private func open() async throws -> NameTable? {
    guard let sidecar else { return try await cotar.readableNameTable() }
    let source = try FileSource(path: sidecar)
    do {
      return try await NameTable.open(in: source, endingAt: try await source.size())
    } catch let error as CotarError where error.code == .unsupportedVersion {
      return nil
    }
  }

  /// The table (`nil`: the archive has none), opened at the first call.
  ///
  /// - Throws: what opening the table threw (the same error at every call).
  func value() async throws -> NameTable? {
    if let opened { return try opened.get() }
    let result: Result<NameTable?, any Error>
    do { result = .success(try await open()) } catch { result = .failure(error) }
    opened = result
    return try result.get()
  }
}
