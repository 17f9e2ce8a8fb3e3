import CotarTestSupport
import Foundation
import Testing

/// The shared option groups (`IndexOptions`, `OutputOptions`, `TreeInputOptions`) behave the
/// same in every command that composes them.
@Suite("CLI option groups")
struct OptionGroupTests {
  static let writers: [[String]] = [["index", "T"], ["create", "T"], ["tar", "out.tar", "tree"], ["append", "A", "tree"], ["pack", "tree", "--shard-size", "1MiB", "-o", "p"]]

  @Test("--packing out of range is a usage error naming the range, in every writer", arguments: writers)
  func packingRange(command: [String]) async throws {
    for value in ["-5", "inf", "1e9"] {
      let result = try await CLI.run(command + ["--packing", value])
      #expect(result.status == 64, "\(command) --packing \(value)")
      #expect(result.stderr.contains("--packing must be a number from 0 to 1000000"), "\(result.stderr)")
    }
  }

  @Test("--max-search is range-checked in every writer", arguments: writers)
  func maxSearchRange(command: [String]) async throws {
    let result = try await CLI.run(command + ["--max-search", "-1"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("--max-search must be from 0 to 1000000"), "\(result.stderr)")
  }

  @Test("tar takes its output positionally or with -o, and the tree options the same way as append")
  func tarOutputEitherWay() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tree = directory.appendingPathComponent("tree")
    try FileManager.default.createDirectory(at: tree.appendingPathComponent("sub"), withIntermediateDirectories: true)
    try Data("a".utf8).write(to: tree.appendingPathComponent("sub/a.txt"))
    let positional = directory.appendingPathComponent("one.tar").path
    let named = directory.appendingPathComponent("two.tar").path
    #expect(try await CLI.run(["tar", positional, "--base", tree.path, "--dirs", "."]).status == 0)
    #expect(try await CLI.run(["tar", "-o", named, "--base", tree.path, "--dirs", "."]).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: positional)) == Data(contentsOf: URL(fileURLWithPath: named)))
    let listed = try await ProcessRunner.runDetached("tar", ["-tf", named]).stdoutText
    #expect(listed.split(separator: "\n").contains("sub/"))
    let again = try await CLI.run(["tar", "-o", named, "--base", tree.path, "."])
    #expect(again.status == 1)
    #expect(again.stderr.contains("--force"))
    #expect(try await CLI.run(["tar", "-o", named, "--force", "--base", tree.path, "."]).status == 0)
  }

  @Test("pack without -o is a usage error that says what -o names")
  func packNeedsOutput() async throws {
    let result = try await CLI.run(["pack", "tree", "--shard-size", "1MiB"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("-o PREFIX"))
  }
}
