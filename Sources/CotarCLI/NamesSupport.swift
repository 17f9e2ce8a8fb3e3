import CotarCore

/// The listing of `archive` (a path or URL read through `source`): its name table when it has
/// one (`.tar.co` or an `X.tar.names` sidecar), else a scan of the tar, announced on stderr.
///
/// Which table to read follows the location's name (the ``ArchiveLocation`` rules): a `.tar.co`
/// (or a URL that gets no guessed sidecar) keeps its table before its trailing index, and only
/// that is read; a `.tar` keeps it in `X.tar.names`, read with one suffix read of up to
/// `speculativeBytes` (the whole file when it is small), and the tar itself is not touched.
/// Only "not found" means "no table": any other failure (401, 403, 5xx, a timeout, a damaged
/// table) is thrown.
///
/// - Throws: `CotarError` from the source, a damaged table, or the scan.
func openNames(archive: String, source: any RangeSource, session: SourceSession, speculativeBytes: Int) async throws -> NameTable {
  // A .tar.gz keeps its table in its .tar.gz.index (SPEC §13).
  if GzipIndexFormat.isGzipName(archive) { return try await gzipNames(archive: archive, session: session, speculativeBytes: speculativeBytes) }
  let name = withoutQuery(archive).lowercased()
  let isRemote = SourceResolver.isRemote(archive)
  let trailing = name.hasSuffix(".co") || (isRemote && (!name.hasSuffix(".tar") || withoutQuery(archive) != archive))
  if !trailing,
    let table = try await sidecarNames(archive + NameTableFormat.sidecarSuffix, resolver: session.resolver, speculativeBytes: speculativeBytes)
  {
    return table
  }
  // A remote .tar without a sidecar is scanned (the scan finds a trailing index by itself).
  var opened: Cotar?
  if trailing || !isRemote {
    do {
      let cotar = try await Cotar.open(source, options: cliOpenOptions(speculativeBytes: speculativeBytes))
      if let table = try await cotar.readableNameTable(speculativeBytes: speculativeBytes) { return table }
      opened = cotar
    } catch let error as CotarError where error.code == .invalidMagic && error.source == source.identity {
      // No trailing index: a plain tar (whatever its name), listed by a scan.
    }
  }
  // A .tar.co without a table: its tar ends where its index starts, and the scan reads through
  // the bytes kept from the open (the last headers cost nothing).
  let tar: any RangeSource
  if let opened, let limit = opened.dataLimit {
    tar = PrefixSource(opened.data, length: limit)
  } else {
    // A remote tar: one suffix read learns the size and holds a trailing index's footer (and
    // all of a small tar), and the scan reads through the bytes it kept, so a tar of up to
    // `speculativeBytes` costs this one request.
    let kept = isRemote ? try await keepingSuffix(of: source, count: speculativeBytes) : source
    let end = try await CotarIndex.tarDataEnd(of: kept)
    tar = end.map { PrefixSource(kept, length: $0) } ?? kept
  }
  let size = try await tar.size()
  printError("cotar: note: \(SourceResolver.redacted(archive)) has no name table; scanning the whole tar (\(counted(Int(clamping: size), "byte")); write one with cotar index/create)")
  return try await NameTable.scanning(tar: tar)
}

/// `source` wrapped in a ``PrefetchedSource`` holding its last `count` bytes (at least 16, for
/// a trailing index's header and footer), read with one suffix read that also learns its size.
///
/// - Throws: as the source's ``RangeSource/readSuffix(count:)``.
func keepingSuffix(of source: any RangeSource, count: Int) async throws -> PrefetchedSource {
  let suffix = try await source.readSuffix(count: max(count, 16))
  let (start, overflow) = suffix.totalSize.subtractingReportingOverflow(UInt64(suffix.bytes.count))
  return PrefetchedSource(source, window: overflow ? [] : suffix.bytes, at: overflow ? 0 : start, totalSize: suffix.totalSize)
}

/// The `X.tar.names` sidecar at `location`, read with one suffix read of `speculativeBytes`
/// (kept in memory, so table reads inside it cost nothing); `nil` when it does not exist.
///
/// - Throws: `CotarError` for any other failure of the source, or a damaged table.
func sidecarNames(_ location: String, resolver: SourceResolver, speculativeBytes: Int = 64 << 10) async throws -> NameTable? {
  let sidecar: any RangeSource
  let suffix: (bytes: [UInt8], totalSize: UInt64)
  do {
    sidecar = try resolver.source(for: location)
    suffix = try await sidecar.readSuffix(count: max(speculativeBytes, NameTableFormat.trailerSize))
  } catch let error as CotarError where error.code == .notFound {
    return nil
  }
  // Table reads inside the suffix already read (its block index, its last blocks; all of a
  // small table) cost nothing.
  let start = suffix.totalSize - UInt64(suffix.bytes.count)
  let kept = PrefetchedSource(sidecar, window: suffix.bytes, at: start, totalSize: suffix.totalSize)
  return try await NameTable.open(in: kept, endingAt: suffix.totalSize, speculativeBytes: suffix.bytes.count)
}

/// The member stored at `path`, with or without trailing slashes (`sticky` finds a directory
/// member stored as `sticky/`, and `d/` a member stored as `d`), or `nil`.
///
/// - Throws: as ``NameTable/stat(pathBytes:)``.
func memberIgnoringSlash(_ path: [UInt8], in table: NameTable) async throws -> NameEntry? {
  var trimmed = path
  while trimmed.count > 1, trimmed.last == 0x2F { trimmed.removeLast() }
  guard !trimmed.isEmpty else { return nil }
  if let exact = try await table.stat(pathBytes: trimmed) { return exact }
  return trimmed.last == 0x2F ? nil : try await table.stat(pathBytes: trimmed + [0x2F])
}

/// What a name-table member of kind ``NameEntry/Kind/other`` may be, for messages: the name
/// table (SPEC §12.5) records one kind for all of them, so the message lists them.
let specialMemberKinds = "a device, FIFO, sparse file, multi-volume continuation or other special tar member"

/// `mode` as `ls -l` and `tar -tv` show it (`drwxr-xr-x`): the set-user-ID and set-group-ID
/// bits as `s` in the owner's or group's execute place (`S` without execute), the sticky bit
/// as `t` in the others' (`T` without execute).
func modeString(_ entry: NameEntry) -> String {
  let type: Character =
    switch entry.kind {
    case .directory: "d"
    case .symbolicLink: "l"
    case .hardLink: "h"
    case .other: "?"
    case .file: "-"
    }
  return String(type) + permissionString(entry.mode)
}

/// The nine permission characters of `mode` (`rwsr-xr-t`), special bits included.
func permissionString(_ mode: UInt32) -> String {
  var text = ""
  // Owner, group, others: read, write, then execute or the class's special bit.
  let specials: [(bit: UInt32, set: Character, alone: Character)] = [
    (0o4000, "s", "S"), (0o2000, "s", "S"), (0o1000, "t", "T"),
  ]
  for group in 0..<3 {
    let shift = UInt32(6 - 3 * group)
    text.append(mode & (0o4 << shift) != 0 ? "r" : "-")
    text.append(mode & (0o2 << shift) != 0 ? "w" : "-")
    let execute = mode & (0o1 << shift) != 0
    let special = specials[group]
    if mode & special.bit != 0 {
      text.append(execute ? special.set : special.alone)
    } else {
      text.append(execute ? "x" : "-")
    }
  }
  return text
}
