import ArgumentParser
import CotarCore
import CotarWriter
import CotarHTTP

/// `cotar ls ARCHIVE`: lists members by scanning the tar headers.
struct ListCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls", abstract: "List the members of a tar or .tar.co by scanning its headers.")

  @Argument(help: "A .tar or .tar.co: a path or an http(s):// URL.", completion: .file())
  var archive: String

  @OptionGroup var remote: RemoteArguments

  @Flag(name: .shortAndLong, help: "Also show type, data offset and size.")
  var long = false

  @Flag(help: "One JSON object per line: path, type, offset, size (and link target).")
  var json = false

  func run() async throws {
    try await remote.withSession(needed: SourceResolver.isRemote(archive)) { session in
      let source = try session.source(archive)
      // A .tar.co's tar ends where its index starts: never read the index as a header.
      let end = try await CotarIndex.tarDataEnd(of: source)
      try await list(TarScanner(source: end.map { PrefixSource(source, length: $0) } ?? source))
    }
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
