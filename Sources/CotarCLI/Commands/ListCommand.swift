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
      table (a few range requests), sorted by path, directories ending in '/'. --recursive \
      lists everything below PREFIX, --glob the paths matching a pattern, and --files keeps \
      only files and hard links (`ls X --recursive --files` lists every path `get` can read). \
      --long adds kind, size (for a directory the du-style total of the files below it), mode \
      and mtime. An archive without a name table is scanned instead (a note on stderr says so). \
      --tar-order lists every member in archive order by scanning the tar headers, as \
      `tar -tf` does (--long: kind, data offset, size).
      """)

  @Argument(help: "A .tar or .tar.co: a path or an http(s):// URL.", completion: .file())
  var archive: String

  @Argument(help: "List this directory (one level; the top level without it).")
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

  @Flag(name: .shortAndLong, help: "Also show kind, size, mode and mtime (--tar-order: kind, data offset, size).")
  var long = false

  @Flag(help: "One JSON object per line: path, type, offset, size (and link target).")
  var json = false

  func validate() throws {
    if tarOrder && (prefix != nil || recursive || glob != nil || files) {
      throw ValidationError("--tar-order lists every member; it does not combine with PREFIX, --recursive, --glob or --files")
    }
  }

  func run() async throws {
    try await remote.withSession(needed: SourceResolver.isRemote(archive)) { session in
      let source = try session.source(archive)
      if !tarOrder {
        let table = try await openNames(
          archive: archive, source: source, session: session, speculativeBytes: remote.speculativeBytes)
        try writeStandardOutput(try await listing(table))
        return
      }
      // A .tar.co's tar ends where its index starts: never read the index as a header.
      let end = try await CotarIndex.tarDataEnd(of: source)
      try await list(TarScanner(source: end.map { PrefixSource(source, length: $0) } ?? source))
    }
  }

  /// The lines of a table-based listing.
  private func listing(_ table: NameTable) async throws -> [UInt8] {
    var out: [UInt8] = []
    let base = prefix ?? ""
    if glob != nil || recursive {
      let entries: [NameEntry]
      if let glob {
        entries = try await table.glob(glob)
      } else {
        let directory = NameTable.directoryPrefix(Array(base.utf8))
        entries = try await table.entries(withPrefix: directory)
      }
      for entry in entries where !files || entry.kind == .file || entry.kind == .hardLink {
        out += line(path: entry.pathBytes, entry: entry, total: nil)
      }
      return out
    }
    for item in try await table.listdir(base) {
      if files && !(item.entry.map { $0.kind == .file || $0.kind == .hardLink } ?? false) { continue }
      var path = item.pathBytes
      if item.isDirectory { path.append(0x2F) }
      out += line(path: path, entry: item.entry, total: item.isDirectory ? item.totalBytes : nil)
    }
    return out
  }

  /// One output line: the path, or with --long `mode size mtime path [-> target]`, or JSON.
  private func line(path: [UInt8], entry: NameEntry?, total: UInt64?) -> [UInt8] {
    let text = String(decoding: path, as: UTF8.self)
    if json {
      var line = "{\"path\":\(JSONText.quoted(text)),\"type\":\"\(entry?.kind.description ?? "directory")\""
      line += ",\"size\":\(total ?? entry?.size ?? 0)"
      if let entry {
        line += ",\"mode\":\(entry.mode),\"mtime\":\(entry.mtime)"
        if entry.kind.description == "file" || entry.kind == .hardLink { line += ",\"offset\":\(entry.dataOffset)" }
        if let target = entry.linkTarget { line += ",\"link\":\(JSONText.quoted(target))" }
      }
      return Array((line + "}\n").utf8)
    }
    guard long else { return path + [0x0A] }
    let placeholder = NameEntry(pathBytes: path, kind: .directory, size: 0)
    let shown = entry ?? placeholder
    var bytes = Array("\(modeString(shown))\t\(total ?? shown.size)\t\(shown.mtime)\t".utf8) + path
    if let target = shown.linkTargetBytes { bytes += Array(" -> ".utf8) + target }
    return bytes + [0x0A]
  }

  private func list(_ scanner: TarScanner) async throws {
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
        pending += Array("\(entry.kind)\t\(entry.dataOffset)\t\(entry.size)\t".utf8) + entry.pathBytes
        if let target = entry.linkTargetBytes { pending += Array(" -> ".utf8) + target }
      } else {
        pending += entry.pathBytes
      }
      pending.append(0x0A)
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
