import AsyncHTTPClient
import CotarCore

extension SourceResolver {
  /// A resolver for local paths and `http://` / `https://` URLs, each URL read by an
  /// ``HTTPRangeSource``.
  ///
  /// - Parameters:
  ///   - client: the client for every request; the default, `HTTPClient.shared`, needs no
  ///     shutdown.
  ///   - configuration: headers, limits, timeouts and retries for every URL.
  ///   - opened: called with each source made, so a caller can collect statistics.
  public static func http(
    client: HTTPClient = .shared, configuration: HTTPRangeSourceConfiguration = HTTPRangeSourceConfiguration(),
    opened: (@Sendable (HTTPRangeSource) -> Void)? = nil
  ) -> SourceResolver {
    SourceResolver().addingHTTP(client: client, configuration: configuration, opened: opened)
  }

  /// A copy that also opens `http://` and `https://` URLs with ``HTTPRangeSource``.
  ///
  /// - Parameters: as ``http(client:configuration:opened:)``.
  public func addingHTTP(
    client: HTTPClient = .shared, configuration: HTTPRangeSourceConfiguration = HTTPRangeSourceConfiguration(),
    opened: (@Sendable (HTTPRangeSource) -> Void)? = nil
  ) -> SourceResolver {
    adding(schemes: ["http", "https"]) { url in
      let source = try HTTPRangeSource(url: url, client: client, configuration: configuration)
      opened?(source)
      return source
    }
  }
}
