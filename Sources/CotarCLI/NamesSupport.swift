import CotarCore

/// The listing of `archive` (a path or URL read through `source`): its name table when it has
/// one (`.tar.co` or an `X.tar.names` sidecar), else a scan of the tar, announced on stderr.
///
/// - Throws: `CotarError` from the source, a damaged table, or the scan.
func openNames(archive: String, source: any RangeSource, session: SourceSession, speculativeBytes: Int) async throws -> NameTable {
  // A .tar.gz keeps its table in its .tar.gz.index (SPEC §13).
  if GzipIndexFormat.isGzipName(archive) { return try await gzipNames(archive: archive, session: session, speculativeBytes: speculativeBytes) }
  if let cotar = try? await Cotar.open(source, options: cliOpenOptions(speculativeBytes: speculativeBytes)) {
    if let table = try await cotar.readableNameTable(speculativeBytes: speculativeBytes) { return table }
  } else if let sidecar = try? session.source(archive + NameTableFormat.sidecarSuffix),
    let size = try? await sidecar.size(),
    let table = try await NameTable.open(in: sidecar, endingAt: size, speculativeBytes: speculativeBytes)
  {
    return table
  }
  let end = try await CotarIndex.tarDataEnd(of: source)
  let tar = end.map { PrefixSource(source, length: $0) } ?? source
  let size = try await tar.size()
  printError("cotar: note: \(archive) has no name table; scanning the whole tar (\(counted(Int(clamping: size), "byte")); write one with cotar index/create)")
  return try await NameTable.scanning(tar: tar)
}

/// `mode` as `ls -l` shows it (`drwxr-xr-x`).
func modeString(_ entry: NameEntry) -> String {
  let type: Character =
    switch entry.kind {
    case .directory: "d"
    case .symbolicLink: "l"
    case .hardLink: "h"
    case .other: "?"
    case .file: "-"
    }
  var text = String(type)
  let letters: [Character] = ["r", "w", "x"]
  for bit in 0..<9 { text.append(entry.mode & (1 << (8 - bit)) != 0 ? letters[bit % 3] : "-") }
  return text
}
