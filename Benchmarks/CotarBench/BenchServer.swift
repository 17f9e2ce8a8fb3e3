import AsyncHTTPClient
import CotarTestSupport

/// Runs `body` with a loopback `RangeServer` and an `HTTPClient` for it, and shuts both down
/// afterwards, whether `body` returns or throws.
///
/// - Throws: what starting the server or `body` throws.
func withBenchServer<Result>(
  client configuration: HTTPClient.Configuration = .init(),
  _ body: (RangeServer, HTTPClient) async throws -> Result
) async throws -> Result {
  let server = try await RangeServer.start()
  let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
  let result: Swift.Result<Result, any Error>
  do {
    result = .success(try await body(server, client))
  } catch {
    result = .failure(error)
  }
  try? await client.shutdown()
  await server.stop()
  return try result.get()
}
