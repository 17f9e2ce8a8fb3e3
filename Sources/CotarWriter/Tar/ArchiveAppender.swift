import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Appends members to an existing `.tar` or `.tar.co` (`cotar append`), crash-safely.
///
/// The new members start where the old end-of-archive marker was (for a `.tar.co`, that
/// also drops the old index); then come two zero blocks and, for a `.tar.co`, the new index.
/// The new index reuses every record of the old one (``CotarIndexBuilder/add(existing:)``):
/// only the members after the last indexed data are read, to find the end-of-archive marker.
/// A plain `.tar` without a sidecar index has no records to reuse and is scanned whole.
///
/// Crash safety is copy-on-write: the old bytes before the marker are copied (by the
/// kernel, sharing blocks where the file system can) into a temporary file beside the
/// archive, the tail is written after them, the file is flushed and renamed over the
/// archive, and the directory is flushed. Until the rename the archive is untouched; after
/// it, the archive is the new one. See SPEC.md §9.2 for why an in-place splice cannot
/// give this guarantee with an index at the end of the file.
public enum ArchiveAppender {
  /// Points of the procedure where a test can inject a crash (``Options/failpoint``).
  public enum Step: String, CaseIterable, Sendable {
    /// The old index was read and the old end-of-archive marker found.
    case scanned = "scanned"
    /// The old bytes were copied into the temporary file.
    case prefixCopied = "prefix-copied"
    /// The first new member was written to the temporary file.
    case firstMemberWritten = "first-member"
    /// The new end-of-archive marker and index were written (not yet flushed).
    case tailWritten = "tail-written"
    /// The temporary file was flushed to disk.
    case synced = "synced"
    /// The temporary file replaced the archive.
    case renamed = "renamed"
    /// The sidecar index replaced the old one (plain `.tar` with a sidecar only).
    case sidecarRenamed = "sidecar-renamed"
  }

  /// How to append.
  public struct Options: Sendable {
    /// Index build options for the new index.
    public var index = CotarIndexBuilder.Options()
    /// For a plain `.tar`: write `ARCHIVE.index` even when none exists yet.
    public var createSidecar = false
    /// Rewrite the name table (SPEC §12) from the old one plus the new members, when the old
    /// archive has one (a `.tar.co`'s, or `ARCHIVE.names`); `false` drops it.
    public var names = true
    /// Called at each ``Step``; throwing or exiting there simulates a crash.
    public var failpoint: (@Sendable (Step) throws -> Void)?

    /// Creates options.
    public init(index: CotarIndexBuilder.Options = .init(), createSidecar: Bool = false, failpoint: (@Sendable (Step) throws -> Void)? = nil) {
      self.index = index
      self.createSidecar = createSidecar
      self.failpoint = failpoint
    }
  }

  /// The archive layouts `append` handles.
  public enum Layout: String, Sendable {
    /// Tar bytes followed by the index.
    case combined = "tar.co"
    /// A tar with an `ARCHIVE.index` sidecar.
    case tarWithSidecar = "tar + sidecar"
    /// A tar without an index.
    case tar = "tar"
  }

  /// What an append did.
  public struct Summary: Sendable {
    /// The layout found (and kept).
    public var layout: Layout
    /// Where the new members start (the old end-of-archive marker).
    public var oldEnd: UInt64
    /// Where the tail scan for the marker started (0 when the whole tar was scanned).
    public var scanStart: UInt64
    /// Records reused from the old index.
    public var reusedRecords: Int
    /// Members appended.
    public var appended: Int
    /// Data bytes appended.
    public var dataBytes: UInt64
    /// Old paths superseded by an appended member of the same path.
    public var superseded: Int
    /// The new archive size.
    public var newSize: UInt64
    /// Statistics of the new index, when one was written.
    public var index: IndexBuildStats?
    /// Whether a plain `.tar` got its first sidecar index (``Options/createSidecar``).
    public var createdSidecar = false
    /// Paths in the name table written, when one was.
    public var namePaths: Int?
    /// Why the old sidecar index was rebuilt from a full scan instead of reused: it did not
    /// describe the tar (`nil` when it was reused, or there was none).
    public var rebuiltBecause: String?
    /// The `ARCHIVE.names` removed with the new index because ``Options/names`` was `false`
    /// (it described the archive before the append), when there was one.
    public var removedNames: String?
  }

  /// Appends `plan` to the archive at `path`.
  ///
  /// - Parameters:
  ///   - plan: the members to add (dedupe applies among them only).
  ///   - path: a `.tar.co` (index found by its footer) or a `.tar` (with `path.index` when it exists).
  ///   - options: index options, sidecar creation and the failpoint.
  ///   - progress: called after each member.
  /// - Returns: what was done.
  /// - Throws: `CotarError` `.io` when the archive is locked by another append or cannot be
  ///   read or replaced, `.corruptIndex` when the old index does not describe the archive,
  ///   `.invalidTar` / `.truncated` from the tail scan, index build errors, `.invalidArgument`
  ///   for a gzip-compressed tar (`.tar.gz`, `.tgz`, refused by its name before anything is
  ///   read) or when the plan holds the archive itself, one of its sidecars or a temporary
  ///   file of theirs (``refuseSelfInput(_:archive:)``), or whatever the failpoint throws. On
  ///   any error the archive is unchanged.
  public static func append(
    _ plan: TarPlan.Result, to path: String, options: Options = Options(),
    progress: ((WriteProgress) -> Void)? = nil
  ) async throws -> Summary {
    guard !GzipIndexFormat.isGzipName(path) else {
      throw CotarError(
        .invalidArgument,
        "append does not support gzip-compressed tars (.tar.gz, .tgz); write a new one with 'cotar tar NEW.tar.gz --gzip …' (or decompress it, append to the .tar, and compress it again)",
        source: path)
    }
    // Through a symbolic link, update the archive it points to; never replace the link.
    let path = try resolvedArchivePath(path)
    try refuseSelfInput(plan, archive: path)
    let lock = try ArchiveLock(path: path)
    defer { lock.release() }
    let source = try FileSource(path: path)
    var old = try await OldArchive.open(source, path: path)
    var prepared: Prepared
    var rebuiltBecause: String?
    do {
      prepared = try await prepare(old, options: options)
    } catch let error as CotarError
      where (error.code == .corruptIndex || error.code == .staleIndex || error.code == .staleNameTable)
      && old.layout == .tarWithSidecar
    {
      // The sidecar does not describe the tar (changed since it was indexed, e.g. by
      // `tar --delete`): the tar is the truth, so both sidecars are rebuilt from a full
      // scan, as `cotar index --force` would (SPEC §9.2.2).
      rebuiltBecause = error.message
      old.fullScan = true
      old.records = []
      prepared = try await prepare(old, options: options)
    }
    var builder = prepared.builder
    var names = prepared.names
    let tail = prepared.tail
    try options.failpoint?(.scanned)

    let output = try AtomicFileWriter(destination: path, overwrite: true)
    try output.setOwner(user: lock.user, group: lock.group)
    try output.setPermissions(lock.mode)
    try output.copyPrefix(ofFile: path, length: tail.end - tail.missingPadding)
    // A tar whose last member's data ends at end of file without its padding (the scan
    // accepts it, as `cotar index` does): the padding goes in before the new members.
    if tail.missingPadding > 0 { try output.write([UInt8](repeating: 0, count: Int(tail.missingPadding))) }
    try options.failpoint?(.prefixCopied)
    let writer = TarWriter(output: output)
    var paths: [UInt64: [UInt8]] = [:]
    try ReproducibleTar.writeMembers(
      plan.members, with: writer, builder: &builder, paths: &paths, progress: progress,
      afterEach: { position in if position == 0 { try options.failpoint?(.firstMemberWritten) } },
      written: { entry in names?.add(entry) })
    try writer.finish()
    let namesBytes = try names?.build()
    var namesSidecar: AtomicFileWriter?
    if let namesBytes, old.layout != .combined {
      let namesWriter = try AtomicFileWriter(destination: path + NameTableFormat.sidecarSuffix, overwrite: true)
      try namesWriter.setOwner(user: lock.user, group: lock.group)
      try namesWriter.write(namesBytes)
      try namesWriter.flush()
      namesSidecar = namesWriter
    }
    var stats: IndexBuildStats?
    var sidecar: AtomicFileWriter?
    if let builder {
      let scanner = tail.scanner
      let built = try await builder.build { headerOffset in
        if let known = paths[headerOffset] { return known }
        return try await scanner.entry(atHeaderOffset: headerOffset).pathBytes
      }
      stats = built.stats
      if old.layout == .combined {
        if let namesBytes { try output.write(namesBytes) }
        try output.write(built.bytes)
      }
      // A sidecar is rewritten for a plain tar, and kept in step for a `.tar.co` that has one
      // (as `cotar tar --co --index` writes).
      if old.layout != .combined || access(path + ".index", F_OK) == 0 {
        let indexWriter = try AtomicFileWriter(destination: path + ".index", overwrite: true)
        try indexWriter.setOwner(user: lock.user, group: lock.group)
        try indexWriter.write(built.bytes)
        try indexWriter.flush()
        sidecar = indexWriter
      }
    }
    try options.failpoint?(.tailWritten)
    try output.flush()
    try options.failpoint?(.synced)
    try output.commit()
    syncParentDirectory(of: path)
    try options.failpoint?(.renamed)
    // Without a new name table, an ARCHIVE.names beside the new index would describe the
    // archive before the append: it goes with the index's commit (SPEC §12.5).
    let oldNames = path + NameTableFormat.sidecarSuffix
    var removedNames: String?
    if let sidecar {
      if !options.names, old.layout != .combined {
        if try sidecar.commit(removing: oldNames) { removedNames = oldNames }
      } else {
        try sidecar.commit()
      }
      syncParentDirectory(of: path)
      try options.failpoint?(.sidecarRenamed)
    }
    try namesSidecar?.commit()
    return Summary(
      layout: old.layout, oldEnd: tail.end, scanStart: tail.scanStart, reusedRecords: old.records.count,
      appended: writer.membersWritten, dataBytes: writer.dataBytesWritten,
      superseded: stats?.duplicatesDropped ?? 0, newSize: output.bytesWritten, index: stats,
      createdSidecar: old.layout == .tar && stats != nil, namePaths: names?.count, rebuiltBecause: rebuiltBecause,
      removedNames: removedNames)
  }

  /// The builders for the new index and name table, primed with the old ones, and the end of
  /// the old tar.
  struct Prepared {
    var builder: CotarIndexBuilder?
    var names: NameTableBuilder?
    var tail: OldArchive.Tail
  }

  /// Primes the index builder with the old records (when an index is written) and the name
  /// table builder with the old table, or, when the whole tar is scanned (no index, or a
  /// stale sidecar being rebuilt), with the scanned members; then finds the old end.
  static func prepare(_ old: OldArchive, options: Options) async throws -> Prepared {
    var builder: CotarIndexBuilder?
    if old.layout != .tar || options.createSidecar {
      var fresh = try CotarIndexBuilder(options: options.index)
      for record in old.records { fresh.add(existing: record) }
      builder = fresh
    }
    var names: NameTableBuilder?
    // A sidecar index created (`--index`) or rebuilt comes with its name table, built from
    // the same full scan, as `cotar index` writes one (SPEC §9.2.1).
    let scansNames = options.names && old.fullScan && builder != nil
    if scansNames {
      names = NameTableBuilder()
    } else if options.names, let table = try await old.nameTable() {
      let entries = try await table.entries(withPrefix: [])
      if old.layout == .tarWithSidecar { try old.refuseStale(names: entries) }
      var fresh = NameTableBuilder()
      for entry in entries { fresh.add(entry) }
      names = fresh
    }
    var scanned = scansNames ? names : nil
    let tail = try await old.findEnd(builder: &builder, names: &scanned)
    if scansNames { names = scanned }
    return Prepared(builder: builder, names: names, tail: tail)
  }
}

/// The archive before the append: its layout, old index records and where the tar part ends.
struct OldArchive {
  var layout: ArchiveAppender.Layout
  var records: [CotarIndexRecord]
  /// The tar part: the whole file, or the bytes before a `.tar.co` index.
  var tar: any RangeSource
  /// The archive path (for its `.names` sidecar).
  var path: String? = nil
  /// Whether the whole tar is scanned from byte 0 (no old index is reused): a plain `.tar`,
  /// or a `.tar` whose stale sidecar is being rebuilt.
  var fullScan = false

  struct Tail {
    /// Where the new members start: the old end-of-archive marker, or the end of the last
    /// member's padded data.
    var end: UInt64
    var scanStart: UInt64
    var scanner: TarScanner
    /// Zero bytes between the end of the file and `end`: the last member's padding, missing
    /// from a tar that ends right after its data (less than 512).
    var missingPadding: UInt64
  }

  static func open(_ source: FileSource, path: String) async throws -> OldArchive {
    let size = try await source.size()
    if size >= UInt64(CotarFormat.headerSize * 2) {
      let footer = try await source.read((size - 8)..<size)
      if Array(footer[0..<3]) == CotarFormat.magic {
        let index = try await CotarIndex.trailing(in: source)
        let header = try await source.read(index.baseOffset..<(index.baseOffset + 8))
        guard header == index.header.serialized() else {
          throw CotarError(
            .corruptIndex, "index header and footer differ; rebuild the index with `cotar create` before appending",
            offset: index.baseOffset, source: path)
        }
        return OldArchive(
          layout: .combined, records: try uniqueRecords(try await index.allRecords(), source: path),
          tar: PrefixSource(source, length: index.baseOffset), path: path)
      }
    }
    if access(path + ".index", F_OK) == 0 {
      let index = try await CotarIndex.open(sidecar: FileSource(path: path + ".index"))
      return OldArchive(
        layout: .tarWithSidecar, records: try uniqueRecords(try await index.allRecords(), source: path + ".index"),
        tar: source, path: path)
    }
    return OldArchive(layout: .tar, records: [], tar: source, path: path, fullScan: true)
  }

  /// The old archive's name table: before a `.tar.co`'s index, or `ARCHIVE.names`.
  func nameTable() async throws -> NameTable? {
    if layout == .combined, let prefix = tar as? PrefixSource {
      return try await NameTable.open(in: prefix, endingAt: try await prefix.size())
    }
    guard let path, access(path + NameTableFormat.sidecarSuffix, F_OK) == 0 else { return nil }
    let names = try FileSource(path: path + NameTableFormat.sidecarSuffix)
    return try await NameTable.open(in: names, endingAt: try await names.size())
  }

  /// Throws `.staleNameTable` unless the sidecar name table's `entries` that carry data (files,
  /// hard links other than links to symlinks) are exactly the old index's records: an append
  /// stopped between renaming the new index and renaming the new `.names` leaves the older
  /// table beside the newer index (SPEC §9.2.4), and extending it would lose members.
  func refuseStale(names entries: [NameEntry]) throws {
    var described = Set<CotarIndexRecord>(minimumCapacity: records.count)
    var representable = true
    for entry in entries where entry.kind == .file || entry.kind == .hardLink {
      if entry.kind == .hardLink && entry.dataOffset == 0 && entry.size == 0 { continue }
      guard let blocks = UInt32(exactly: entry.dataOffset / 512), let size = UInt32(exactly: entry.size) else {
        representable = false
        break
      }
      described.insert(CotarIndexRecord(hash: PathHash.fnv1a64(bytes: entry.pathBytes), blockOffset: blocks, size: size))
    }
    guard !representable || described != Set(records) else { return }
    throw CotarError(
      .staleNameTable,
      "the name table does not match the index (members with data: \(described.count) in the table, \(records.count) in the index, or at other offsets): it describes an earlier build",
      source: (path ?? "") + NameTableFormat.sidecarSuffix)
  }

  /// The filled slots of an old index, refusing one that holds a hash twice: a valid index
  /// never does, and appending would silently drop members.
  static func uniqueRecords(_ records: [CotarIndexRecord], source: String) throws -> [CotarIndexRecord] {
    let filled = records.filter { !$0.isEmpty }
    var seen = Set<UInt64>(minimumCapacity: filled.count)
    for record in filled where !seen.insert(record.hash).inserted {
      throw CotarError(
        .corruptIndex,
        "the index holds path hash 0x\(String(record.hash, radix: 16)) twice, which a valid index never does; rebuild it with `cotar index` or `cotar create` before appending",
        source: source)
    }
    return filled
  }

  /// Finds the end-of-archive marker by scanning only the members after the last indexed
  /// data (the whole tar when there is no index, adding its members to `builder` and `names`).
  ///
  /// - Throws: `.corruptIndex` when the old index does not describe the tar (it points past
  ///   its end, or an indexed kind of member after its last data is not in it), `.staleIndex`
  ///   when the member it says ends last has no header of that size right before its data
  ///   (the tar was changed after indexing, e.g. by `tar --delete`); else what the scan throws.
  func findEnd(builder: inout CotarIndexBuilder?, names: inout NameTableBuilder?) async throws -> Tail {
    let tarSize = try await tar.size()
    var start: UInt64 = 0
    var dataEnd: UInt64 = 0
    for record in records {
      let end = record.entry.offset + record.entry.size  // < 2^42, cannot overflow
      dataEnd = max(dataEnd, end)
      start = max(start, (end + 511) & ~UInt64(511))
    }
    guard dataEnd <= tarSize else {
      throw CotarError(
        .corruptIndex, "index points past the end of the tar data (\(dataEnd) > \(tarSize)); rebuild the index before appending",
        source: tar.identity)
    }
    let scanner = TarScanner(source: tar)
    if start > tarSize {
      // The indexed last member ends the file, without its padding: nothing follows to scan.
      return Tail(end: start, scanStart: start, scanner: scanner, missingPadding: start - tarSize)
    }
    if let last = records.max(by: { $0.entry.offset + $0.entry.size < $1.entry.offset + $1.entry.size }) {
      try await checkHeader(of: last)
    }
    let known = Set(records.map(\.hash))
    let scanWhole = fullScan
    var added = builder
    var scannedNames = names
    let summary = try await scanner.scan(from: start) { entry in
      if scanWhole { scannedNames?.add(entry) }
      guard entry.kind.isIndexed else {
        // Not indexed, but it replaces the earlier members of its path (SPEC §6).
        try added?.add(entry)
        return
      }
      if scanWhole {
        try added?.add(entry)
      } else if !known.contains(PathHash.fnv1a64(bytes: entry.pathBytes)) {
        throw CotarError(
          .corruptIndex,
          "member at \(entry.headerOffset) is not in the index, so the index does not describe this archive; rebuild it with `cotar index` or `cotar create` before appending",
          offset: entry.headerOffset, path: entry.path, source: tar.identity)
      }
    }
    builder = added
    names = scannedNames
    let missingPadding = summary.endOffset > tarSize ? summary.endOffset - tarSize : 0
    guard missingPadding < 512 else {
      throw CotarError(
        .truncated, "the archive ends \(missingPadding) bytes before its last member's padded end", offset: tarSize,
        source: tar.identity)
    }
    return Tail(end: summary.endOffset, scanStart: start, scanner: scanner, missingPadding: missingPadding)
  }
}

extension OldArchive {
  /// Checks that the member the old index says ends last is where the index says, with the
  /// readers' check of a sidecar record (``EntryHeaderCheck``, SPEC §8.5): the block right
  /// before its data is a valid header of a regular file of that size. A tar changed after it
  /// was indexed (`tar --delete` moves the later members up and zeroes the end) fails this, so
  /// the new members are never written after the real end-of-archive marker, where tar tools
  /// would not see them.
  ///
  /// - Throws: `.staleIndex` naming the header offset when the header is not there,
  ///   `.corruptIndex` for a data offset below 512, or the read's errors.
  func checkHeader(of record: CotarIndexRecord) async throws {
    let check = EntryHeaderCheck(entry: record.entry, path: nil, source: tar.identity)
    let header = try check.headerOffset()
    do {
      let block = try await tar.read(header..<(header + EntryHeaderCheck.blockSize))
      try await check.verify(block[...], from: tar)
    } catch let error as CotarError where error.code == .staleIndex || error.code == .truncated {
      throw CotarError(
        .staleIndex,
        "the index does not describe this tar: it has a file of \(record.entry.size) bytes with data at byte \(record.entry.offset), but the tar has no such member there (was the tar changed after it was indexed, e.g. by tar --delete?)",
        offset: header, source: tar.identity)
    }
  }
}

/// `path` with symbolic links resolved when it is one (`realpath(3)`), else `path` itself.
///
/// - Throws: `CotarError` `.io` for a dangling link.
func resolvedArchivePath(_ path: String) throws -> String {
  guard let info = try? Syscall.linkStatus(path), info.st_mode & S_IFMT == S_IFLNK else { return path }
  do {
    return try Syscall.realPath(path)
  } catch {
    throw error.cotarError("cannot follow the symbolic link to the archive", source: path)
  }
}

/// An exclusive `flock(2)` on the archive for the duration of an append, so two appends
/// cannot both read the old archive and lose one another's members.
final class ArchiveLock {
  private var descriptor: Int32
  /// The archive's permission bits, kept for the replacement file.
  let mode: UInt32
  /// The archive's owner and group, kept for the replacement file where this process may.
  let user: UInt32
  let group: UInt32

  init(path: String) throws {
    let (fd, opened) = try openRegularFile(path)
    guard Syscall.tryLockExclusive(fd) else {
      Syscall.close(fd)
      throw CotarError(.io, "another process is appending to this archive; try again when it has finished", source: path)
    }
    guard let current = try? Syscall.status(path), opened.st_ino == current.st_ino, opened.st_dev == current.st_dev else {
      Syscall.close(fd)
      throw CotarError(.io, "the archive was replaced while it was being opened; try again", source: path)
    }
    self.descriptor = fd
    self.mode = UInt32(opened.st_mode & 0o7777)
    self.user = UInt32(opened.st_uid)
    self.group = UInt32(opened.st_gid)
  }

  func release() {
    if descriptor >= 0 {
      Syscall.close(descriptor)
      descriptor = -1
    }
  }

  deinit { release() }
}
