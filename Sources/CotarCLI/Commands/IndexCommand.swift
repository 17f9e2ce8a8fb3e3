import ArgumentParser
import CotarCore
import CotarWriter

/// `cotar index TAR`: writes a `.tar.index` sidecar.
struct IndexCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "index", abstract: "Build a .tar.index sidecar for a tar (default output: TAR.index).")

  @Argument(help: "The tar to index.", completion: .file())
  var tar: String

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func run() async throws {
    try await writeIndex(of: tar, to: output.output ?? tar + ".index", index: index, force: output.force, includingTar: false)
  }
}

/// Builds the index of `tar` and writes it atomically to `destination`, after a copy of the
/// tar bytes when `includingTar` (a `.tar.co`), then prints the one-line summary.
///
/// - Throws: `CotarError` from the scan, the build or the output.
func writeIndex(of tar: String, to destination: String, index: IndexOptions, force: Bool, includingTar: Bool) async throws {
  try OutputGuard.refuse(destination: destination, sameAs: Set([OutputGuard.identity(of: tar)].compactMap { $0 }))
  let writer = try AtomicFileWriter(destination: destination, overwrite: force)
  let source = try FileSource(path: tar)
  let progress = scanProgressPrinter("indexing")
  let result = try await CotarIndexBuilder.build(
    tar: source, options: index.builderOptions, progress: progress, names: index.noNames ? nil : .init())
  endProgressLine(progress)
  if includingTar {
    let size = try await source.size()
    try await writer.copy(from: source, range: 0..<size)
    // An unterminated tar gets its end-of-archive marker, so tar readers stop before the index.
    let padding = result.scan.terminatorPadding(fileSize: size)
    if padding > 0 { try writer.write([UInt8](repeating: 0, count: Int(padding))) }
    // The name table sits between the tar and the index (SPEC §12.1).
    if let names = result.names { try writer.write(names) }
  } else if let names = result.names {
    // Sidecar layout: X.tar.names beside X.tar.index.
    let namesPath = namesSidecarPath(forIndex: destination)
    try OutputGuard.refuse(destination: namesPath, sameAs: Set([OutputGuard.identity(of: tar)].compactMap { $0 }))
    let namesWriter = try AtomicFileWriter(destination: namesPath, overwrite: force)
    try namesWriter.write(names)
    try namesWriter.commit()
  }
  try writer.write(result.index.bytes)
  try writer.commit()
  printError(buildSummary(result, output: destination))
}

/// The one-line summary printed by `index` and `create`.
func buildSummary(_ result: IndexBuildResult, output: String) -> String {
  let stats = result.index.stats
  var line = "\(output): \(stats.files) entries, \(stats.slots) slots, longest probe \(stats.longestProbe)"
  line += packingSummary(stats)
  line += ", skipped \(result.scan.skippedCount)"
  if !result.scan.skipped.isEmpty {
    line += " (" + result.scan.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")"
  }
  if stats.duplicatesDropped > 0 { line += ", \(stats.duplicatesDropped) superseded duplicates" }
  return line
}

/// The name-table sidecar that goes with index file `index`: `X.tar.index` → `X.tar.names`,
/// any other name gets `.names` appended.
func namesSidecarPath(forIndex index: String) -> String {
  index.hasSuffix(".index") ? String(index.dropLast(".index".count)) + NameTableFormat.sidecarSuffix : index + NameTableFormat.sidecarSuffix
}
