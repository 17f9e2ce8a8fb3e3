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
      guard let entry = try await table.stat(path) else {
        throw CotarError(.notFound, "no member '\(escapedName(path))' in the archive", path: escapedName(path), source: source.identity)
      }
      var lines = [
        "path: \(String(decoding: escapedName(entry.pathBytes), as: UTF8.self))", "kind: \(entry.kind)", "size: \(entry.size)",
        "mode: \(modeString(entry)) (0\(String(entry.mode, radix: 8)))", "mtime: \(entry.mtime)",
      ]
      if entry.kind == .file || entry.kind == .hardLink { lines.append("offset: \(entry.dataOffset)") }
      if let target = entry.linkTargetBytes { lines.append("link: \(String(decoding: escapedName(target), as: UTF8.self))") }
      try writeStandardOutput(Array((lines.joined(separator: "\n") + "\n").utf8))
    }
  }
}
