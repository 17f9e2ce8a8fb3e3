import CotarCore
import CotarHTTP
import CotarTestSupport
import Testing

/// Archives shared by the tests (built once per process).
enum Fixtures {
  /// 5,000 entries: the index (≈100 KB) is larger than the 64 KiB speculative read.
  static let large = Task { try await TestArchive.make(count: 5000) }
  /// 300 entries: the index (≈6 KB) fits in the speculative read.
  static let small = Task { try await TestArchive.make(count: 300) }
}

/// A test server with `name` served, and a source for it with quick retries.
func serve(
  _ name: String, _ bytes: [UInt8], configuration: HTTPRangeSourceConfiguration = quickConfiguration()
) async throws -> (RangeServer, HTTPRangeSource) {
  let server = try await RangeServer.start()
  server.put(name, bytes)
  return (server, try HTTPRangeSource(url: server.url(name), configuration: configuration))
}

/// A test server with `archive`'s tar and sidecar index served as `small.tar` and
/// `small.tar.index`, and the archive opened over HTTP from them (the opening reads only).
func serveSidecar(_ archive: TestArchive) async throws -> (RangeServer, Cotar) {
  let server = try await RangeServer.start()
  server.put("small.tar", archive.tar)
  server.put("small.tar.index", archive.index)
  let cotar = try await Cotar.open(
    tar: try HTTPRangeSource(url: server.url("small.tar")), index: try HTTPRangeSource(url: server.url("small.tar.index")))
  return (server, cotar)
}

/// Short retry delays so failure tests run fast, and neither an overall retry deadline nor a
/// request timeout that a loaded machine can reach (tests that count requests failed when a
/// slow answer timed out after 10 s and was asked again), so that the number of tries does
/// not depend on how loaded the machine is. Tests of timeouts set their own.
func quickConfiguration(attempts: Int = 4, unranged: Int = 4 << 20) -> HTTPRangeSourceConfiguration {
  HTTPRangeSourceConfiguration(
    maximumUnrangedBytes: unranged, requestTimeout: .seconds(120),
    retry: RetryPolicy(
      maximumAttempts: attempts, initialDelay: .milliseconds(5), maximumDelay: .milliseconds(20),
      maximumTotal: .seconds(600)))
}

/// The `CotarError` that `body` throws; `nil`, with a recorded test failure, when it throws
/// anything else (a raw NIO or AsyncHTTPClient error escaping the library is a bug).
func cotarError(_ body: () async throws -> Void) async -> CotarError? {
  do {
    try await body()
    return nil
  } catch let error as CotarError {
    return error
  } catch {
    Issue.record("expected a CotarError, got \(type(of: error)): \(error)")
    return nil
  }
}
