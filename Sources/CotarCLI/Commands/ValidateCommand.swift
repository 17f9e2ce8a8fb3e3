import ArgumentParser
import CotarCore

/// `cotar validate ARCHIVE`: cross-checks the tar against its index.
struct ValidateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Check that every indexed tar entry resolves to its exact offset and size.")

  @OptionGroup var archive: ArchiveArguments

  func run() async throws {
    let report = try await archive.withArchive { location in
      let cotar = try await location.open()
      let progress = scanProgressPrinter("validating")
      // The tar of a .tar.co ends where its index starts: never scan the index as a header.
      let tar: any RangeSource = cotar.dataLimit.map { PrefixSource(location.tar, length: $0) } ?? location.tar
      let report = try await CotarValidator.validate(tar: tar, index: cotar.index)
      endProgressLine(progress)
      return report
    }
    if report.isValid {
      try writeStandardOutput(Array("valid: \(report.indexedPaths) entries, \(report.filledSlots) filled slots\n".utf8))
      return
    }
    var text = "invalid: \(report.problems.count + report.unlistedProblems) problems\n"
    text += report.problems.map { "  \($0)\n" }.joined()
    if report.unlistedProblems > 0 { text += "  … and \(report.unlistedProblems) more\n" }
    try writeStandardOutput(Array(text.utf8))
    throw ExitCode.failure
  }
}
