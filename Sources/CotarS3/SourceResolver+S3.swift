import AsyncHTTPClient
import CotarCore
import CotarHTTP

extension SourceResolver {
  /// A copy that also opens `s3://bucket/key` locations with ``S3RangeSource``.
  ///
  /// - Parameters:
  ///   - client: the HTTP client for every request (the caller owns it).
  ///   - s3: endpoint, region, addressing and credentials.
  ///   - configuration: limits, timeouts and retries of the HTTP requests.
  ///   - opened: called with each source made, so a caller can collect statistics.
  public func addingS3(
    client: HTTPClient = .shared, s3: S3Configuration,
    configuration: HTTPRangeSourceConfiguration = HTTPRangeSourceConfiguration(),
    opened: (@Sendable (S3RangeSource) -> Void)? = nil
  ) -> SourceResolver {
    adding(schemes: ["s3"]) { location in
      let source = try S3RangeSource(object: try S3ObjectPath(parsing: location), client: client, s3: s3, configuration: configuration)
      opened?(source)
      return source
    }
  }
}
