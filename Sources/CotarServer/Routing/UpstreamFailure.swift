import CotarCore
import CotarHTTP
import HTTPTypes

/// How `cotar serve` answers when reading a remote archive fails upstream: as a gateway
/// (RFC 9110 §15.6), not with 500, which is kept for its own failures.
///
/// - 504 Gateway Timeout: the upstream server did not answer in time (connect or request
///   timeout).
/// - 503 Service Unavailable with `Retry-After`: the upstream server cannot be reached
///   (connection refused, host unreachable) or itself answered 503 or 429.
/// - 502 Bad Gateway: any other failed or invalid upstream answer (another error status such
///   as 500 or 403, a range not honoured, a body cut short, a TLS failure, an unknown host,
///   the object changed or vanished and could not be reopened).
struct UpstreamFailure: Equatable {
  /// The status to answer with.
  var status: HTTPResponse.Status
  /// The `Retry-After` seconds, for 503.
  var retryAfter: Int?
  /// The message of the answer's body (no URL: the upstream's address is not disclosed).
  var message: String

  /// The seconds a client is told to wait before retrying an unavailable upstream.
  static let retryAfterSeconds = 5

  /// The gateway answer for `error`, raised while reading an archive; `nil` when it is not an
  /// upstream failure (a local read, a corrupt index, a bug: answered 500).
  init?(_ error: CotarError) {
    if let transport = error.cause as? HTTPTransportFailure {
      switch transport.kind {
      case .timeout, .connectTimeout:
        self.init(status: .gatewayTimeout, message: "the upstream server did not answer in time (\(transport))")
      case .connectionRefused, .unreachable:
        self.init(
          status: .serviceUnavailable, retryAfter: Self.retryAfterSeconds,
          message: "the upstream server is unavailable (\(transport))")
      case .unknownHost, .connectionLost, .tls, .redirect, .invalidURL, .invalidRequest, .other:
        self.init(status: .badGateway, message: "the upstream server failed (\(transport))")
      }
      return
    }
    if let status = error.httpStatus {
      if status.status == 503 || status.status == 429 {
        self.init(
          status: .serviceUnavailable, retryAfter: Self.retryAfterSeconds,
          message: "the upstream server is unavailable (\(status))")
      } else {
        self.init(status: .badGateway, message: "the upstream server failed (\(status))")
      }
      return
    }
    guard Self.isRemote(error.source) else { return nil }
    switch error.code {
    case .rangeNotHonoured, .truncated, .sourceChanged, .notFound, .httpStatus, .io:
      self.init(status: .badGateway, message: "the upstream server gave an unusable answer: \(error.message)")
    default:
      return nil
    }
  }

  private init(status: HTTPResponse.Status, retryAfter: Int? = nil, message: String) {
    self.status = status
    self.retryAfter = retryAfter
    self.message = message
  }

  /// Whether `source` names a remote object (an `http://`, `https://` or `s3://` URL).
  private static func isRemote(_ source: String?) -> Bool {
    guard let source else { return false }
    return source.hasPrefix("http://") || source.hasPrefix("https://") || source.hasPrefix("s3://")
  }
}
