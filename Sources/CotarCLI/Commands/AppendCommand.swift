import ArgumentParser
import CotarCore
import CotarWriter

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `cotar append ARCHIVE FILE...`: adds members to a `.tar` or `.tar.co`, crash-safely.
struct AppendCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "append",
    abstract: "Append files to a .tar or .tar.co and update its index without re-reading the old members.",
    discussion: """
      New members replace the end-of-archive marker (and a .tar.co's old index); a path that \
      already exists is superseded (last wins). The archive is replaced atomically: a crash \
      leaves either the old or the new archive.
      """)

  @Argument(help: "The .tar.co, or .tar (its ARCHIVE.index sidecar is updated when it exists).", completion: .file())
  var archive: String

  @Argument(help: "Files and directories to add, relative to --base.", completion: .file())
  var files: [String]

  @Flag(name: .customLong("index"), help: "For a plain .tar without a sidecar: create ARCHIVE.index and, unless --no-names, ARCHIVE.names (as cotar index does).")
  var createSidecar = false

  @OptionGroup var tree: TreeInputOptions
  @OptionGroup var index: IndexOptions

  func validate() throws {
    guard !files.isEmpty else { throw ValidationError("give at least one file or directory to append") }
  }

  func run() async throws {
    let plan = try tree.plan(files)
    var options = ArchiveAppender.Options(
      index: index.builderOptions, createSidecar: createSidecar, failpoint: debugFailpoint())
    options.names = !index.noNames
    let progress = writeProgressPrinter("appending")
    let summary = try await ArchiveAppender.append(plan, to: archive, options: options, progress: progress)
    endWriteProgress(progress)
    if let reason = summary.rebuiltBecause {
      printError("cotar: warning: the sidecars of \(archive) did not describe it (\(reason)); rebuilt \(archive).index (and its name table) from a full scan of the tar")
    }
    if let removed = summary.removedNames {
      printError("cotar: removed \(removed): it described the archive before this append, and --no-names writes no name table")
    }
    let layout = summary.createdSidecar ? "tar, new sidecar index" : summary.layout.rawValue
    var line = "\(archive) (\(layout)): appended \(counted(summary.appended, "member")) at byte \(summary.oldEnd)"
    line += ", reused \(counted(summary.reusedRecords, "index record")), scanned from byte \(summary.scanStart)"
    if summary.superseded > 0 { line += ", \(counted(summary.superseded, "path")) superseded" }
    if let stats = summary.index { line += ", index \(counted(stats.files, "entry", "entries")) in \(counted(stats.slots, "slot"))" + packingSummary(stats) }
    if let paths = summary.namePaths { line += ", name table of \(counted(paths, "path"))" }
    printError(line)
  }
}

/// In debug builds, `COTAR_FAIL_AT=<step>` ends the process at once (like a crash, without
/// any cleanup) and `COTAR_PAUSE_AT=<step>` prints `cotar: paused at <step>` and waits to be
/// killed, so tests can crash `append` at each step of ``ArchiveAppender/Step`` (and `pack`
/// at ``CotarPacker/Step``).
func debugFailpoint<Step: RawRepresentable<String> & Sendable>(_: Step.Type = ArchiveAppender.Step.self) -> (@Sendable (Step) throws -> Void)? {
  #if DEBUG
    let failAt = getenv("COTAR_FAIL_AT").map { String(cString: $0) }
    let pauseAt = getenv("COTAR_PAUSE_AT").map { String(cString: $0) }
    guard failAt != nil || pauseAt != nil else { return nil }
    return { step in
      if step.rawValue == failAt {
        writeStandardError("cotar: simulated crash at \(step.rawValue)\n")
        _exit(86)
      }
      if step.rawValue == pauseAt {
        writeStandardError("cotar: paused at \(step.rawValue)\n")
        while true { pause() }
      }
    }
  #else
    return nil
  #endif
}
