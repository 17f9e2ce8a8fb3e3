import ArgumentParser
import CotarCore

/// `cotar validate ARCHIVE`: cross-checks the tar against its index.
struct ValidateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Check that every indexed tar entry resolves to its exact offset and size.")

  @OptionGroup var archive: ArchiveArguments

  func run() async throws {
    var names: Int?
    let report = try await archive.withArchive { location in
      let cotar = try await location.open()
      let progress = scanProgressPrinter("validating")
      // The tar of a .tar.co ends where its index starts: never scan the index as a header.
      let tar: any RangeSource = try await validatedTar(cotar, location)
      var report = try await CotarValidator.validate(tar: tar, index: cotar.index)
      // A scan inflates a .tar.gz from its start; the seek points' windows serve reads elsewhere.
      if let gzip = tar as? GzipTarSource { report.problems += try await gzip.windowProblems() }
      // The name table, before a .tar.co's index or in ARCHIVE.names, must list the same members.
      let table: NameTable? =
        if let table = try await cotar.nameTable() { table } else { try await sidecarNames(location) }
      if let table {
        report.problems += try await CotarValidator.validateNames(tar: tar, table: table)
        names = table.count
      }
      endProgressLine(progress)
      return report
    }
    if report.isValid {
      let tableNote = names.map { ", name table of \(counted($0, "path"))" } ?? ""
      try writeStandardOutput(Array("valid: \(counted(report.indexedPaths, "entry", "entries")), \(counted(report.filledSlots, "filled slot"))\(tableNote)\n".utf8))
      return
    }
    var text = "invalid: \(report.problems.count + report.unlistedProblems) problems\n"
    text += report.problems.map { "  \($0)\n" }.joined()
    if report.unlistedProblems > 0 { text += "  … and \(report.unlistedProblems) more\n" }
    try writeStandardOutput(Array(text.utf8))
    throw ExitCode.failure
  }

  /// The `X.tar.names` sidecar of a sidecar layout (beside its `X.tar.index`, given or
  /// guessed; local or remote), when it exists.
  ///
  /// - Throws: `CotarError` for a failure other than "not found", or a damaged table.
  private func sidecarNames(_ location: OpenedLocation) async throws -> NameTable? {
    guard location.sources.sidecar != nil else { return nil }
    let index = archive.index ?? withoutQuery(archive.archive) + ".index"
    // A presigned URL signs one object: no other name can be derived from it.
    guard withoutQuery(index) == index else { return nil }
    return try await CotarCLI.sidecarNames(namesSidecarPath(forIndex: index), resolver: location.resolver)
  }
}
