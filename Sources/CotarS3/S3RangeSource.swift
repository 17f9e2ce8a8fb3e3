import AsyncHTTPClient
import CotarCore
import CotarHTTP

/// A `RangeSource` for an S3 object (`s3://bucket/key`), on any S3-compatible store.
///
/// Every request is an ``HTTPRangeSource`` request signed with AWS Signature Version 4
/// (``S3Signer``), so range checks, ETag pinning, retries, deadlines and statistics are those
/// of HTTP. Errors name the object as `s3://bucket/key`; a 403 says why S3 refused
/// (`signature does not match`, an unknown access key, access denied) and which credentials
/// were used, without any secret.
public final class S3RangeSource: RangeSource {
  /// The bucket and key.
  public let object: S3ObjectPath
  /// `s3://bucket/key`.
  public let identity: String
  /// The endpoint, region, addressing and credentials in use.
  public let s3: S3Configuration
  /// The signed HTTP source underneath (its ``HTTPRangeSource/statistics`` are this source's).
  public let http: HTTPRangeSource

  /// Creates a source for `object`; does no I/O.
  ///
  /// - Parameters:
  ///   - object: the bucket and key.
  ///   - client: the HTTP client (the caller owns it).
  ///   - s3: endpoint, region, addressing and credentials (``S3Configuration/resolve(environment:endpointURL:addressing:signRequests:)``).
  ///   - configuration: limits, timeouts and retries of the HTTP requests.
  /// - Throws: `CotarError` `.invalidArgument` when the endpoint URL is unusable.
  public init(
    object: S3ObjectPath, client: HTTPClient = .shared, s3: S3Configuration,
    configuration: HTTPRangeSourceConfiguration = HTTPRangeSourceConfiguration()
  ) throws {
    self.object = object
    self.identity = object.description
    self.s3 = s3
    let signer = s3.credentials.map { S3Signer(credentials: $0, region: s3.region) }
    self.http = try HTTPRangeSource(url: s3.url(for: object), client: client, configuration: configuration, signer: signer)
  }

  private init(object: S3ObjectPath, s3: S3Configuration, http: HTTPRangeSource) {
    self.object = object
    self.identity = object.description
    self.s3 = s3
    self.http = http
  }

  /// A new source for the same object and settings that has learnt nothing yet (no pinned
  /// ETag or size): what reopening a replaced object needs.
  ///
  /// - Throws: as ``init(object:client:s3:configuration:)``.
  public func fresh() throws -> S3RangeSource {
    S3RangeSource(object: object, s3: s3, http: try http.fresh())
  }

  /// The strong ETag pinned by the first response.
  public var pinnedETag: String? { http.pinnedETag }

  /// Requests and bytes so far.
  public var statistics: HTTPSourceStatistics { http.statistics }

  /// The object size (see ``HTTPRangeSource/size()``).
  ///
  /// - Throws: as ``read(_:)``.
  public func size() async throws -> UInt64 {
    do { return try await http.size() } catch { throw explain(error) }
  }

  /// Exactly the bytes of `range`, with one signed request.
  ///
  /// - Throws: `CotarError` `.notFound` for a missing bucket or key, `.httpStatus` for a
  ///   refused request (403: the message says why and which credentials were used), and
  ///   what ``HTTPRangeSource/read(_:)`` throws.
  public func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    do { return try await http.read(range) } catch { throw explain(error) }
  }

  /// The last `count` bytes and the object size.
  ///
  /// - Throws: as ``read(_:)``.
  public func readSuffix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    do { return try await http.readSuffix(count: count) } catch { throw explain(error) }
  }

  /// The first `count` bytes and the object size.
  ///
  /// - Throws: as ``read(_:)``.
  public func readPrefix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    do { return try await http.readPrefix(count: count) } catch { throw explain(error) }
  }

  /// `error` naming this object and, for refusals, the credentials used.
  func explain(_ error: any Error) -> any Error {
    guard var failure = error as? CotarError else { return error }
    failure.source = identity
    failure.message = S3Failure.explain(
      code: failure.code, status: failure.httpStatus, message: failure.message, object: object, s3: s3)
    return failure
  }
}

/// Messages for S3 error answers.
enum S3Failure {
  /// A one-line explanation of an S3 error answer, naming the bucket, the key and, for a
  /// refusal, the credentials (never the secret or the token), with what to do about it.
  static func explain(
    code: CotarError.Code, status: HTTPStatusFailure?, message: String, object: S3ObjectPath, s3: S3Configuration
  ) -> String {
    let named = "bucket '\(object.bucket)', key '\(object.key)'"
    if code == .notFound {
      if status?.serviceCode == "NoSuchBucket" { return "no such bucket '\(object.bucket)' (key '\(object.key)')" }
      return "no such key: \(named)"
    }
    guard code == .httpStatus, let status else { return message }
    guard let reason = reason(status, s3: s3) else { return "\(message) (\(named))" }
    return "\(reason): \(named); credentials: \(s3.credentialSummary)"
  }

  /// What a refusal means and what to do, by the store's error code, else by status; `nil`
  /// for an answer that is not a refusal of the credentials or the request's signing.
  static func reason(_ status: HTTPStatusFailure, s3: S3Configuration) -> String? {
    let hasToken = s3.credentials?.sessionToken?.isEmpty == false
    switch (status.status, status.serviceCode) {
    case (_, "SignatureDoesNotMatch"?):
      return "signature does not match: the secret access key is wrong for this access key id"
        + " (check AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key), or the request was changed on the way"
    case (_, "InvalidAccessKeyId"?):
      return "the access key id is not known to the store: check AWS_ACCESS_KEY_ID or the profile,"
        + " and that the endpoint (AWS_ENDPOINT_URL) is the store the key belongs to"
    case (_, "ExpiredToken"?), (_, "TokenRefreshRequired"?):
      return "the session token has expired: the temporary credentials must be renewed"
        + " (aws sso login, a new AWS_SESSION_TOKEN, or long-term keys)"
    case (_, "InvalidToken"?):
      return hasToken
        ? "the session token is malformed or does not belong to this access key id: check AWS_SESSION_TOKEN"
          + " (unset it with long-term keys, which need none)"
        : "the store wants a valid session token: these credentials are temporary, set AWS_SESSION_TOKEN"
    case (_, "RequestTimeTooSkewed"?), (_, "RequestExpired"?):
      return "the system clock is too far from the store's (more than 15 minutes): set the clock (NTP)"
    case (_, "AuthorizationHeaderMalformed"?):
      return "the region does not match the bucket's (set AWS_REGION)"
    case (301, _), (_, "PermanentRedirect"?):
      return "the bucket is in another region (set AWS_REGION) or needs another endpoint"
    case (_, "AccessDenied"?), (_, "AllAccessDisabled"?):
      return "access denied: the credentials are valid, but the bucket policy or the IAM permissions"
        + " do not allow this request on the object"
    case (401, _), (403, _):
      return s3.credentials == nil
        ? "access denied to an unsigned request: give credentials (AWS_ACCESS_KEY_ID, a profile) unless the object is public"
        : "access denied: check the credentials, and the bucket policy or IAM permissions"
    default:
      return nil
    }
  }
}
