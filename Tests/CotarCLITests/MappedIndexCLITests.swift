import CotarTestSupport
import Foundation
import Testing

@Suite("cotar with a mapped local index")
struct MappedIndexCLITests {
  /// `stats: total: N reads` from `--stats` output.
  static func totalReads(_ text: String) -> Int? {
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("stats: total:") }) else { return nil }
    return line.split(separator: " ").dropFirst(2).first.flatMap { Int($0) }
  }

  /// Runs `cotar` off the cooperative threads (a blocked pool thread would starve the
  /// parallel suites), with `environment` added to this process's.
  static func cotar(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws
    -> CommandResult
  {
    try await ProcessRunner.runDetached(
      CLI.executable.path, arguments, in: directory.path,
      environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
  }

  @Test("get maps a large local index by default (no window read); COTAR_NO_MMAP=1 reads the window with pread")
  func mappedByDefault() async throws {
    // 16 speculative bytes: no slot is in memory after open, so every lookup needs the index.
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var tar = TestTar()
    for index in 0..<6000 { tar.add("f/\(index % 11)/\(index).txt", "file \(index)") }
    try Data(tar.finished).write(to: directory.appendingPathComponent("big.tar"))
    let created = try await Self.cotar(["create", "big.tar", "-o", "big.tar.co", "--no-names"], in: directory)
    #expect(created.status == 0, "\(created.stderr)")
    let get = ["get", "big.tar.co", "f/8/3000.txt", "--stats", "--speculative-bytes", "16"]
    let mapped = try await Self.cotar(get, in: directory)
    let unmapped = try await Self.cotar(get, in: directory, environment: ["COTAR_NO_MMAP": "1"])
    #expect(mapped.status == 0 && unmapped.status == 0, "\(mapped.stderr) \(unmapped.stderr)")
    #expect(mapped.stdoutText == "file 3000" && unmapped.stdoutText == "file 3000")
    let mappedReads = try #require(Self.totalReads(mapped.stderr), "\(mapped.stderr)")
    let unmappedReads = try #require(Self.totalReads(unmapped.stderr), "\(unmapped.stderr)")
    #expect(unmappedReads == mappedReads + 1, "one window read more without the mapping")
  }
}
