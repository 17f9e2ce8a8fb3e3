import ArgumentParser
import CotarCore
import CotarHTTP

/// `cotar stat ARCHIVE PATH`: one member's kind, size, mode, mtime and link target.
struct StatCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stat", abstract: "Show one member's kind, size, mode, mtime, data offset and link target (from the name table).")

  @Argument(help: "A .tar or .tar.co: a path or an http(s):// URL.", completion: .file())
  var archive: String

  @Argument(help: "The member's path in the archive.")
  var path: String

  @OptionGroup var remote: RemoteArguments

  func run() async throws {
    try await remote.withSession(needed: SourceResolver.isRemote(archive)) { session in
      let source = try session.source(archive)
      let table = try await openNames(archive: archive, source: source, session: session, speculativeBytes: remote.speculativeBytes)
      let bytes = rawArgumentBytes(path)
      var implied = false
      var found = try await memberIgnoringSlash(bytes, in: table)
      if found == nil {
        found = try await Self.impliedDirectory(bytes, in: table)
        implied = found != nil
      }
      guard let entry = found else {
        throw CotarError(.notFound, "no member '\(escapedName(path))' in the archive", path: escapedName(path), source: source.identity)
      }
      var lines = [
        "path: \(String(decoding: escapedName(entry.pathBytes), as: UTF8.self))", "kind: \(entry.kind)", "size: \(entry.size)",
        "mode: \(modeString(entry)) (0\(String(entry.mode, radix: 8)))", "mtime: \(entry.mtime)",
      ]
      if implied {
        lines.append("implied: yes (no member of its own; mode 0755 and the newest mtime below it are shown)")
      }
      if entry.kind == .file || entry.kind == .hardLink { lines.append("offset: \(entry.dataOffset)") }
      if let target = entry.linkTargetBytes { lines.append("link: \(String(decoding: escapedName(target), as: UTF8.self))") }
      try writeStandardOutput(Array((lines.joined(separator: "\n") + "\n").utf8))
    }
  }

  /// A directory that `path` names only through members below it (a tar made without
  /// directory members), described as `ls --long` lists it: `path/`, mode `0755`, the newest
  /// mtime below it; `nil` when nothing is below `path`.
  static func impliedDirectory(_ path: [UInt8], in table: NameTable) async throws -> NameEntry? {
    let prefix = NameTable.directoryPrefix(path)
    guard !prefix.isEmpty else { return nil }
    let below = try await table.entries(withPrefix: prefix)
    guard let newest = below.map(\.mtime).max() else { return nil }
    return NameEntry(pathBytes: prefix, kind: .directory, size: 0, mode: 0o755, mtime: newest)
  }
}
