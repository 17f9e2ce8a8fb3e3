import ArgumentParser
import CotarCore
import CotarWriter

/// `cotar extract ARCHIVE [PREFIX…] [--glob PATTERN] -o DIR`: members into a directory tree.
struct ExtractCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "extract",
    abstract: "Extract everything, subtrees or a pattern into a directory, as tar -x does.",
    discussion: """
      Members are chosen from the name table (a few range requests), or from a scan of the tar \
      when the archive has none (a note on stderr says so). A local tar with no index at all is \
      scanned once and indexed in memory. Without PREFIX or --glob the whole \
      archive is extracted. Files are read in archive order, as `get` reads them: concurrently, neighbours \
      coalesced into one read, large files streamed in bounded memory. Directories get their \
      modes (permission bits and the sticky bit, so a 1777 tmp/ stays 1777) and times once \
      filled; files get their permission bits (0o777) and times. Set-user-ID and set-group-ID \
      bits are always dropped (the files belong to whoever extracts them; GNU tar drops them \
      too unless it restores owners), and so is a file's sticky bit. No umask is applied. \
      Paths naming the same file (`f`, `./f`) are one output: the latest member wins, as with \
      GNU tar. A hard link whose target's data is extracted too \
      becomes a hard link, otherwise a copy of its own data; a hard link to a symbolic link is \
      that symbolic link. A symbolic link is created only when it cannot lead outside DIR \
      (a relative target whose leading '..' stay below DIR, with no '..' after a name); other \
      links, devices and FIFOs are reported and skipped, and the exit status is then 1. Nothing \
      is ever written through a symbolic link, and an existing file is replaced only with --force; \
      a device, FIFO, socket or directory in DIR at a member's path is never replaced.
      """)

  @OptionGroup var archive: ArchiveArguments

  @Argument(help: "Members or directories to extract, as stored (default: everything); './' is tried both ways.")
  var prefixes: [String] = []

  @Option(help: "Also extract the members matching PATTERN (*, ?, [...], ** across directories); repeatable.")
  var glob: [String] = []

  @Option(name: .shortAndLong, help: "The directory to extract into (created when missing).", completion: .directory)
  var output: String

  @Flag(help: "Replace existing files and links.")
  var force = false

  @Option(help: ArgumentHelp("Files whose data is at most this far apart are fetched with one read (bytes or a size such as 1MiB).", valueName: "size"))
  var coalesceGap = ByteCount(64 << 10)

  @Option(help: "Reads in flight at once.")
  var concurrency: Int = 16

  func validate() throws {
    guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 1024, got \(concurrency)") }
    guard coalesceGap.bytes <= 1 << 30 else {
      throw ValidationError("--coalesce-gap must be at most 1GiB, got \(coalesceGap.bytes) bytes")
    }
  }

  func run() async throws {
    let remote = archive.remote
    let failed = try await remote.withSession(needed: archive.location.isRemote, connections: concurrency) { session in
      let opened = OpenedLocation(sources: try archive.location.resolve(using: session.resolver), options: remote.openOptions)
      let indexed = try await opened.openIndexingPlainTar(named: archive.archive, withNames: true)
      let cotar = indexed.cotar
      let table: NameTable
      if let scanned = indexed.scannedNames {
        table = scanned
      } else if let stored = try await cotar.readableNameTable(speculativeBytes: remote.speculativeBytes) {
        table = stored
      } else {
        table = try await openNames(
          archive: archive.archive, source: opened.tar, session: session, speculativeBytes: remote.speculativeBytes)
      }
      let (members, unmatched) = try await select(from: table)
      return unmatched + (try await extract(members, from: cotar, table: table))
    }
    if failed > 0 { throw ExitCode.failure }
  }

  /// The members to extract, in path order, and how many PREFIX or PATTERN arguments matched
  /// nothing (each reported).
  private func select(from table: NameTable) async throws -> ([NameEntry], Int) {
    if prefixes.isEmpty && glob.isEmpty { return (try await table.entries(withPrefix: []), 0) }
    var chosen: [[UInt8]: NameEntry] = [:]
    var unmatched = 0
    for prefix in prefixes {
      let path = rawArgumentBytes(prefix)
      let found = try await subtree(path, in: table)
      if found.isEmpty {
        let hint = try await didYouMean(path) { !(try await subtree($0, in: table)).isEmpty }
        printError("cotar: '\(escapedName(prefix))' is not in \(archive.shown)\(hint)")
        unmatched += 1
      }
      for entry in found { chosen[entry.pathBytes] = entry }
    }
    for pattern in glob {
      let found = try await table.glob(pattern)
      if found.isEmpty {
        printError("cotar: no member of \(archive.shown) matches --glob '\(pattern)'")
        unmatched += 1
      }
      for entry in found { chosen[entry.pathBytes] = entry }
    }
    return (chosen.values.sorted { $0.pathBytes.lexicographicallyPrecedes($1.pathBytes) }, unmatched)
  }

  /// The member at `path` (with or without a trailing slash) and every member below it.
  private func subtree(_ path: [UInt8], in table: NameTable) async throws -> [NameEntry] {
    var trimmed = path
    while trimmed.count > 1, trimmed.last == 0x2F { trimmed.removeLast() }
    var found: [NameEntry] = []
    if let exact = try await table.stat(pathBytes: trimmed) { found.append(exact) }
    let directory = NameTable.directoryPrefix(trimmed)
    if !directory.isEmpty { found += try await table.entries(withPrefix: directory) }
    return found
  }

  /// Writes `members` under the output directory; returns how many failed or were refused.
  /// Before anything is written, every file and hard-link record is checked against the
  /// index (SPEC §12.5): a stale name table fails the run instead of writing wrong bytes.
  private func extract(_ members: [NameEntry], from cotar: Cotar, table: NameTable) async throws -> Int {
    _ = try await cotar.located(
      members.filter { $0.kind == .file || $0.kind == .hardLink }, in: table, concurrency: concurrency)
    let extractor = try SafeExtractor(directory: output, overwrite: force)
    var failed = 0
    /// Runs `body`, reporting and counting an entry's failure; one that concerns the whole
    /// archive (a stale index, a changed source) stops the run.
    func attempt(_ body: () async throws -> Void) async throws {
      do {
        try await body()
      } catch let error as CotarError where !error.invalidatesArchive {
        printError("cotar: \(naming(error))")
        failed += 1
      }
    }
    let plan = try await ExtractPlan(members, table: table)
    for error in plan.refused {
      printError("cotar: \(naming(error))")
      failed += 1
    }
    for member in plan.directories {
      try await attempt { try extractor.makeDirectory(member.pathBytes, attributes: attributes(member)) }
    }
    var total = plan.files.reduce(UInt64(0)) { $0 + $1.size }
    let bar = TransferProgress.make("extract", total: total)
    defer { bar?.finish() }
    var done: UInt64 = 0
    var written = Set<[UInt8]>()
    // The bytes of the files actually written (not of refused or failed members): the summary's.
    var writtenBytes: UInt64 = 0
    let batch = BatchReadOptions(lookupConcurrency: concurrency, readConcurrency: concurrency, coalesceGap: coalesceGap.bytes)
    /// Writes `files` through the shared read path (neighbours coalesced, large files streamed).
    func write(_ files: [NameEntry], progress: Bool) async throws {
      let located = try files.map { try cotar.located($0) }
      try await EntryFetcher(cotar: cotar, options: batch).forEach(located, paths: files.map(\.pathBytes)) {
        position, payload in
        let member = files[position]
        try await attempt {
          switch payload {
          case .bytes(let bytes): try extractor.write(bytes, to: member.pathBytes, attributes: attributes(member))
          case .stream(let entry):
            let base = done
            try await EntryFetcher.naming(member.pathBytes) {
              try await extractor.write(
                entry, of: cotar, to: member.pathBytes, attributes: attributes(member),
                progress: { if progress { bar?.update(base + $0) } })
            }
          case .missing: break
          case .failed(let damage): throw damage
          }
          written.insert(member.pathBytes)
          writtenBytes += member.size
        }
        if progress {
          done += member.size
          bar?.update(done)
        }
      }
    }
    // In archive order, not path order: each batch then reads one stretch of the archive, and
    // a .tar.gz's seek-point span shared by two batches (or by a batch and a streamed file)
    // is fetched once (GzipTarSource keeps the span a read ends in).
    try await write(plan.files.sorted { $0.dataOffset < $1.dataOffset }, progress: true)
    // A hard link whose target failed to be written becomes a copy of the data, as one whose
    // target is not extracted at all.
    let copies = plan.hardLinks.filter { !written.contains($0.target) }.map(\.member)
    total += copies.reduce(UInt64(0)) { $0 + $1.size }
    try await write(copies.sorted { $0.dataOffset < $1.dataOffset }, progress: false)
    var links = 0
    for (member, target) in plan.hardLinks where written.contains(target) {
      try await attempt {
        try extractor.makeHardLink(member.pathBytes, to: target)
        links += 1
      }
    }
    for (member, target) in plan.symbolicLinks {
      try await attempt {
        try extractor.makeSymbolicLink(member.pathBytes, target: target, modificationTime: member.mtime)
        links += 1
      }
    }
    try extractor.finish()
    bar?.finish()
    // Directories: those created (implied by paths too) and the directory members.
    let directories = extractor.directoriesMade.count
    printError(
      "extracted \(counted(written.count, "file")), \(counted(directories, "directory", "directories")) and \(counted(links, "link")) (\(counted(Int(clamping: writtenBytes), "byte"))) into \(output)"
        + (failed > 0 ? "; \(counted(failed, "member")) failed or skipped" : ""))
    return failed
  }

  /// `error`, a member's failure, naming the archive when it names no other place (an error
  /// in the output directory names that directory). The name table keeps no header positions,
  /// so a refusal names the member, not its byte offset (SPEC §12.6).
  private func naming(_ error: CotarError) -> CotarError {
    var error = error
    if error.source == nil { error.source = archive.shown }
    return error
  }

  private func attributes(_ member: NameEntry) -> SafeExtractor.Attributes {
    SafeExtractor.Attributes(mode: member.mode, modificationTime: member.mtime)
  }
}
