import CotarTestSupport
import Foundation
import Testing

/// Runs `cotar-bench` end to end on a tiny corpus: every section must finish and report its
/// figures. Speed is not checked here (the bench measures it); what is checked is that each
/// section still works against the code it measures, and the request counts it promises.
@Suite("cotar-bench smoke run")
struct BenchSmokeTests {
  /// The `cotar-bench` executable built beside the tests.
  static let executable: URL = CLI.executable.deletingLastPathComponent().appendingPathComponent("cotar-bench")

  @Test("every section of a small run finishes, with the JSON keys the docs name")
  func everySectionRuns() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let json = directory.appendingPathComponent("out.json")
    let run = try await ProcessRunner.runDetached(
      Self.executable.path,
      [
        "--entries", "2000", "--large-mib", "8", "--lookups", "200", "--remote-lookups", "50", "--scans", "2",
        "--dir", directory.path, "--json", json.path,
      ],
      in: directory.path)
    #expect(run.status == 0, "\(run.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json))
    let report = try #require(object as? [String: Any])
    for section in ["build", "lookup", "remote", "index_size", "large", "listing", "gzip"] {
      let figures = try #require(report[section] as? [String: Any], "no section \(section)")
      #expect(figures["available"] as? Bool == true, "\(section): \(figures)")
    }
    let build = try #require(report["build"] as? [String: Any])
    let lookup = try #require(report["lookup"] as? [String: Any])
    for (section, key) in [
      (build, "cotar_entries_per_s"), (build, "limit_entries_per_s"), (lookup, "memory_per_s"), (lookup, "file_per_s"),
      (lookup, "limit_per_s"),
    ] {
      let value = try #require(section[key] as? Double, "no \(key)")
      #expect(value > 0, "\(key) = \(value)")
    }
    let remote = try #require(report["remote"] as? [String: Any])
    let coldRequests = try #require(remote["requests_cold"] as? Double)
    #expect(coldRequests <= 3, "a cold remote lookup took \(coldRequests) requests")
    let gzip = try #require(report["gzip"] as? [String: Any])
    let gzipRequests = try #require(gzip["lookup_requests"] as? Double)
    #expect(gzipRequests <= 4, "a cold .tar.gz lookup took \(gzipRequests) requests")
  }
}
