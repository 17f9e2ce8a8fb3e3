import ArgumentParser
import CotarCore
import CotarWriter
import CotarHTTP

/// `cotar ls ARCHIVE [PREFIX]`: lists one directory level (or more) from the name table, or
/// every member in archive order by scanning the tar headers (`--tar-order`).
struct ListCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List the members of a tar or .tar.co.",
    discussion: """
      Lists one directory level, PREFIX (a directory; the top level without it), from the name \
      table (a few range requests), sorted by path, directories ending in '/'. A PREFIX that \
      names a file (or link) lists that member, as `tar -t NAME` does; one that matches \
      nothing, or a --glob that matches nothing, is reported on stderr (exit 1). --recursive \
      lists everything below PREFIX, --glob the paths matching a pattern, and --files keeps \
      only files and hard links (`ls X --recursive --files` lists every path `get` can read). \
      --long adds kind, size (for a directory the du-style total of the files below it), mode \
      and mtime. An archive without a name table is scanned instead (a note on stderr says so). \
      --tar-order lists every member in archive order by scanning the tar headers, as \
      `tar -tf` does (--long: kind, data offset, size).
      """)

  @Argument(help: "A .tar or .tar.co: a path or an http(s):// URL.", completion: .file())
  var archive: String

  @Argument(help: "List this directory (one level; the top level without it), or this one member.")
  var prefix: String?

  @Flag(name: .shortAndLong, help: "List every member below PREFIX, not one level.")
  var recursive = false

  @Option(help: "List members whose path matches PATTERN (*, ?, [...], ** across directories).")
  var glob: String?

  @Flag(help: "Only files and hard links.")
  var files = false

  @Flag(help: "Every member in archive order, by scanning the tar headers (as tar -tf).")
  var tarOrder = false

  @OptionGroup var remote: RemoteArguments

  @Option(help: "For a .tar.gz: its .tar.gz.index, path or URL (default: ARCHIVE.index).", completion: .file())
  var index: String?

  @Flag(name: .shortAndLong, help: "Also show kind, size, mode and mtime (--tar-order: kind, data offset, size).")
  var long = false

  @Flag(help: "One JSON object per line: path, type, offset, size (and link target).")
  var json = false

  @Flag(
    help: ArgumentHelp(
      "End each line with NUL instead of a newline and print names raw (not escaped).",
      discussion: "For exact pipelines: cotar ls X -r --files --null | cotar get X --paths-from - --null -o out"))
  var null = false

  func validate() throws {
    if null && json { throw ValidationError("--null does not combine with --json (JSON strings are already exact)") }
    if tarOrder && (prefix != nil || recursive || glob != nil || files) {
      throw ValidationError("--tar-order lists every member; it does not combine with PREFIX, --recursive, --glob or --files")
    }
  }

  func run() async throws {
    try await remote.withSession(needed: SourceResolver.isRemote(archive) || index.map(SourceResolver.isRemote) == true) { session in
      if GzipIndexFormat.isGzipName(archive) || index != nil { return try await listGzip(session) }
      let source = try session.source(archive)
      if !tarOrder {
        let table = try await openNames(
          archive: archive, source: source, session: session, speculativeBytes: remote.speculativeBytes)
        try await writeListing(table)
        return
      }
      // A .tar.co's tar ends where its index starts: never read the index as a header. A remote
      // one is read from one suffix read on (size, footer, and all of a small tar).
      let kept = SourceResolver.isRemote(archive) ? try await keepingSuffix(of: source, count: remote.speculativeBytes) : source
      let end = try await CotarIndex.tarDataEnd(of: kept)
      try await list(TarScanner(source: end.map { PrefixSource(kept, length: $0) } ?? kept))
    }
  }

  /// Writes the table-based listing to standard output, then reports on standard error each
  /// PREFIX or --glob that matched nothing (with "did you mean './sub'?" when another
  /// spelling is there) and exits 1, as `get` and `extract` do.
  ///
  /// - Throws: `CotarError` when the table cannot be read; `ExitCode.failure` after
  ///   reporting an unmatched PREFIX or pattern.
  func writeListing(_ table: NameTable) async throws {
    let (lines, unmatched) = try await listing(table)
    try writeStandardOutput(lines)
    for message in unmatched { printError("cotar: \(message)") }
    if !unmatched.isEmpty { throw ExitCode.failure }
  }

  /// The lines of a table-based listing, and a message for each PREFIX or --glob that
  /// matched nothing. A PREFIX that names a member other than a directory lists that member,
  /// as `tar -t NAME` does.
  func listing(_ table: NameTable) async throws -> (lines: [UInt8], unmatched: [String]) {
    var out: [UInt8] = []
    let base = prefix.map(rawArgumentBytes) ?? []
    if let glob {
      let entries = try await table.glob(glob)
      for entry in entries where keeps(entry) {
        out += line(path: entry.pathBytes, entry: entry, total: nil)
      }
      guard entries.isEmpty else { return (out, []) }
      let hint = try await didYouMean(Array(glob.utf8)) { !(try await table.glob(String(decoding: $0, as: UTF8.self))).isEmpty }
      return (out, ["no member of \(SourceResolver.redacted(archive)) matches --glob '\(escapedName(glob))'\(hint)"])
    }
    var matched: Bool
    if recursive {
      let entries = try await table.entries(withPrefix: NameTable.directoryPrefix(base))
      for entry in entries where keeps(entry) {
        out += line(path: entry.pathBytes, entry: entry, total: nil)
      }
      matched = !entries.isEmpty
    } else {
      let items = try await table.listdir(pathBytes: base)
      for item in items {
        if files && !(item.entry.map(keeps) ?? false) { continue }
        var path = item.pathBytes
        if item.isDirectory { path.append(0x2F) }
        out += line(
          path: path, entry: item.entry ?? Self.impliedDirectory(item), total: item.isDirectory ? item.totalBytes : nil,
          implied: item.entry == nil)
      }
      matched = !items.isEmpty
    }
    // Only when nothing is below PREFIX (so a directory costs no extra lookup): a member that
    // is not a directory is listed itself; an empty directory member, or the top level of an
    // empty archive, is an empty listing.
    guard !matched, !base.isEmpty, let prefix else { return (out, []) }
    if let member = try await Self.member(base, in: table) {
      if member.kind != .directory && keeps(member) { out += line(path: member.pathBytes, entry: member, total: nil) }
      return (out, [])
    }
    let hint = try await didYouMean(base) { try await Self.exists($0, in: table) }
    return (out, ["'\(escapedName(prefix))' is not in \(SourceResolver.redacted(archive))\(hint)"])
  }

  /// Whether `member` passes --files (only files and hard links).
  private func keeps(_ member: NameEntry) -> Bool {
    !files || member.kind == .file || member.kind == .hardLink
  }

  /// The member stored at `path`, with or without trailing slashes, or `nil`.
  private static func member(_ path: [UInt8], in table: NameTable) async throws -> NameEntry? {
    try await memberIgnoringSlash(path, in: table)
  }

  /// Whether `path` is a member or has members below it (what "did you mean" offers).
  private static func exists(_ path: [UInt8], in table: NameTable) async throws -> Bool {
    if try await member(path, in: table) != nil { return true }
    let directory = NameTable.directoryPrefix(path)
    guard !directory.isEmpty else { return false }
    return !(try await table.entries(withPrefix: directory)).isEmpty
  }

  /// What a listing shows for a directory that has no member of its own, only members below
  /// it (a tar made without directory members): mode `0755` (`drwxr-xr-x`, what `tar -x`
  /// creates such a directory with under the usual umask) and the newest mtime below it.
  static func impliedDirectory(_ item: NameTable.DirectoryItem) -> NameEntry? {
    guard item.isDirectory else { return nil }
    return NameEntry(
      pathBytes: item.pathBytes, kind: .directory, size: 0, mode: 0o755,
      mtime: item.newestMtime == .min ? 0 : item.newestMtime)
  }

  /// One output line: the path, or with --long `mode size mtime path [-> target]`, or JSON
  /// (`"implied":true` for a directory that is not a member, see ``impliedDirectory(_:)``).
  private func line(path: [UInt8], entry: NameEntry?, total: UInt64?, implied: Bool = false) -> [UInt8] {
    let text = String(decoding: path, as: UTF8.self)
    if json {
      var line = "{\"path\":\(JSONText.quoted(text)),\"type\":\"\(entry?.kind.description ?? "directory")\""
      line += ",\"size\":\(total ?? entry?.size ?? 0)"
      if let entry {
        line += ",\"mode\":\(entry.mode),\"mtime\":\(entry.mtime)"
        if entry.kind.description == "file" || entry.kind == .hardLink { line += ",\"offset\":\(entry.dataOffset)" }
        if let target = entry.linkTarget { line += ",\"link\":\(JSONText.quoted(target))" }
      }
      if implied { line += ",\"implied\":true" }
      return Array((line + "}\n").utf8)
    }
    guard long else { return shown(path) + [terminator] }
    let placeholder = NameEntry(pathBytes: path, kind: .directory, size: 0, mode: 0o755)
    let member = entry ?? placeholder
    var bytes = Array("\(modeString(member))\t\(total ?? member.size)\t\(member.mtime)\t".utf8) + shown(path)
    if let target = member.linkTargetBytes { bytes += Array(" -> ".utf8) + shown(target) }
    return bytes + [terminator]
  }

  /// What ends a line: NUL with --null, else a newline.
  private var terminator: UInt8 { null ? 0 : 0x0A }

  /// A name as printed: raw with --null, else escaped as GNU tar does (`\n`, `\033`, `\\`).
  private func shown(_ name: [UInt8]) -> [UInt8] { null ? name : escapedName(name) }

  func list(_ scanner: TarScanner) async throws {
    var pending: [UInt8] = []
    pending.reserveCapacity(1 << 16)
    // On a damaged tar, print every member read before the error, then report it (exit 1).
    do {
      try await scan(scanner, into: &pending)
    } catch {
      try? writeStandardOutput(pending)
      throw error
    }
    try writeStandardOutput(pending)
  }

  private func scan(_ scanner: TarScanner, into pending: inout [UInt8]) async throws {
    _ = try await scanner.scan { entry in
      if json {
        pending += Array(jsonLine(entry).utf8)
      } else if long {
        pending += Array("\(entry.kind)\t\(entry.dataOffset)\t\(entry.size)\t".utf8) + shown(entry.pathBytes)
        if let target = entry.linkTargetBytes { pending += Array(" -> ".utf8) + shown(target) }
      } else {
        pending += shown(entry.pathBytes)
      }
      pending.append(json ? 0x0A : terminator)
      if pending.count >= 1 << 16 {
        try writeStandardOutput(pending)
        pending.removeAll(keepingCapacity: true)
      }
    }
  }

  private func jsonLine(_ entry: TarEntry) -> String {
    var line = "{\"path\":\(JSONText.quoted(entry.path)),\"type\":\"\(entry.kind)\",\"offset\":\(entry.dataOffset),\"size\":\(entry.size)"
    if let target = entry.linkTarget { line += ",\"link\":\(JSONText.quoted(target))" }
    return line + "}"
  }
}
