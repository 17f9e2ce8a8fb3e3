import AsyncHTTPClient
import CotarCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The HTTP status behind a `CotarError` `.httpStatus`, kept as the error's `CotarError.cause`.
///
/// Its description (`HTTP 404 Not Found`) ends the error's one-line description.
public struct HTTPStatusFailure: Error, Sendable, Hashable, CustomStringConvertible {
  /// The status code, such as 404.
  public var status: Int
  /// The reason phrase the server sent.
  public var reason: String
  /// The error code from an XML error body (`<Code>SignatureDoesNotMatch</Code>`, as S3 and
  /// compatible stores send), if any.
  public var serviceCode: String?

  /// Creates a status failure.
  public init(status: Int, reason: String, serviceCode: String? = nil) {
    self.status = status
    self.reason = reason
    self.serviceCode = serviceCode
  }

  /// `HTTP 404 Not Found`, or `HTTP 403 Forbidden (SignatureDoesNotMatch)`.
  public var description: String {
    let head = reason.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(reason)"
    return serviceCode.map { "\(head) (\($0))" } ?? head
  }

  /// Whether the status says the object does not exist (404, 410).
  public var meansAbsent: Bool { status == 404 || status == 410 }

  /// Whether retrying may succeed: 408, 429 and 5xx other than 501 and 505.
  public var isTransient: Bool {
    status == 408 || status == 429 || ((500...599).contains(status) && status != 501 && status != 505)
  }
}

extension CotarError {
  /// The HTTP status of an `.httpStatus` error raised by ``HTTPRangeSource``, if any.
  public var httpStatus: HTTPStatusFailure? { cause as? HTTPStatusFailure }

  /// Whether this error says the object is absent (HTTP 404 or 410, code `.notFound`), the
  /// only answer that lets a guessed sidecar URL be dropped quietly.
  public var meansObjectAbsent: Bool { code == .notFound || httpStatus?.meansAbsent == true }
}

/// A failure below HTTP (connect, DNS, TLS, a reset or a timeout), summarised in one line.
///
/// It is the `CotarError.cause` of `.io` errors from ``HTTPRangeSource``; the original
/// error stays available as ``underlying`` but is not printed.
public struct HTTPTransportFailure: Error, Sendable, CustomStringConvertible {
  /// What kind of failure this is.
  public enum Kind: String, Sendable, Hashable {
    /// The server refused the connection.
    case connectionRefused
    /// The host name could not be resolved.
    case unknownHost
    /// The network or host is unreachable.
    case unreachable
    /// Connecting took longer than the connect timeout.
    case connectTimeout
    /// The request (head and body) took longer than its deadline.
    case timeout
    /// The connection was reset or closed before the response was complete.
    case connectionLost
    /// The TLS handshake failed (certificate not trusted, wrong host name, protocol error).
    case tls
    /// The URL cannot be requested.
    case invalidURL
    /// The HTTP client refused the request before sending it (an invalid header name or
    /// value): nothing reached the server, and trying again cannot help.
    case invalidRequest
    /// Too many redirects, or a redirect loop.
    case redirect
    /// Anything else.
    case other
  }

  /// The kind of failure.
  public var kind: Kind
  /// A short description of the cause, such as `connection refused`.
  public var summary: String
  /// The error the HTTP stack raised (not printed).
  public var underlying: (any Error)?

  /// Creates a transport failure.
  public init(_ kind: Kind, _ summary: String, underlying: (any Error)? = nil) {
    self.kind = kind
    self.summary = summary
    self.underlying = underlying
  }

  /// The summary.
  public var description: String { summary }

  /// Whether retrying may succeed: timeouts and connections lost mid-request. Refused
  /// connections, unknown hosts and TLS failures are final.
  public var isTransient: Bool {
    switch kind {
    case .connectTimeout, .timeout, .connectionLost, .other: true
    case .connectionRefused, .unknownHost, .unreachable, .tls, .invalidURL, .invalidRequest, .redirect: false
    }
  }

  /// Classifies an error thrown by AsyncHTTPClient, SwiftNIO or NIOSSL.
  public static func classify(_ error: any Error) -> HTTPTransportFailure {
    if let failure = error as? HTTPTransportFailure { return failure }
    if let connection = error as? NIOConnectionError { return classify(connection) }
    if let client = error as? HTTPClientError { return classify(client) }
    if let tls = error as? NIOSSLError { return classifyTLS(tls, text: "\(tls)") }
    if let extra = error as? NIOSSLExtraError {
      if extra == .failedToValidateHostname {
        return HTTPTransportFailure(.tls, "TLS certificate does not match the host name", underlying: error)
      }
      return HTTPTransportFailure(.tls, "TLS failure", underlying: error)
    }
    if let io = error as? IOError { return classify(errno: io.errnoCode, underlying: error) }
    if let parser = error as? HTTPParserError {
      if parser == .invalidEOFState {
        return HTTPTransportFailure(
          .connectionLost, "connection closed before the response was complete", underlying: error)
      }
      return HTTPTransportFailure(.other, "malformed HTTP response", underlying: error)
    }
    if error is ChannelError {
      if case .connectTimeout = error as? ChannelError {
        return HTTPTransportFailure(.connectTimeout, "connection timed out", underlying: error)
      }
      return HTTPTransportFailure(.connectionLost, "connection closed", underlying: error)
    }
    return HTTPTransportFailure(.other, "request failed", underlying: error)
  }

  private static func classify(_ error: NIOConnectionError) -> HTTPTransportFailure {
    if let first = error.connectionErrors.first {
      var failure = classify(first.error)
      failure.underlying = error
      return failure
    }
    if error.dnsAError != nil || error.dnsAAAAError != nil {
      return HTTPTransportFailure(.unknownHost, "unknown host '\(error.host)'", underlying: error)
    }
    return HTTPTransportFailure(.other, "cannot connect", underlying: error)
  }

  /// The summaries of the `HTTPClientError`s raised when the client refuses a request's
  /// headers before sending it (their payloads differ, so they cannot be matched by value).
  private static let refusedHeaderSummaries: Set<String> = [
    HTTPClientError.invalidHeaderFieldNames([]).shortDescription, HTTPClientError.invalidHeaderFieldValues([]).shortDescription,
  ]

  private static func classify(_ error: HTTPClientError) -> HTTPTransportFailure {
    if refusedHeaderSummaries.contains(error.shortDescription) {
      return HTTPTransportFailure(.invalidRequest, "request refused before sending: \(error.shortDescription.lowercased())", underlying: error)
    }
    return switch error {
    case .connectTimeout: HTTPTransportFailure(.connectTimeout, "connection timed out", underlying: error)
    case .readTimeout, .deadlineExceeded, .writeTimeout:
      HTTPTransportFailure(.timeout, "timed out waiting for the server", underlying: error)
    case .remoteConnectionClosed, .bodyLengthMismatch:
      HTTPTransportFailure(.connectionLost, "connection closed before the response was complete", underlying: error)
    case .getConnectionFromPoolTimeout, .tlsHandshakeTimeout:
      HTTPTransportFailure(.connectTimeout, "connection timed out", underlying: error)
    case .invalidURL, .emptyHost, .emptyScheme, .missingSocketPath:
      HTTPTransportFailure(.invalidURL, "invalid URL", underlying: error)
    case .redirectLimitReached: HTTPTransportFailure(.redirect, "too many redirects", underlying: error)
    case .redirectCycleDetected: HTTPTransportFailure(.redirect, "redirect loop", underlying: error)
    default: HTTPTransportFailure(.other, error.shortDescription, underlying: error)
    }
  }

  private static func classifyTLS(_ error: any Error, text: String) -> HTTPTransportFailure {
    if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("unableToValidateCertificate") {
      return HTTPTransportFailure(
        .tls, "TLS certificate not trusted (give its CA with --cacert or SSL_CERT_FILE)", underlying: error)
    }
    if text.contains("HOSTNAME") || text.contains("Hostname") {
      return HTTPTransportFailure(.tls, "TLS certificate does not match the host name", underlying: error)
    }
    if text.contains("WRONG_VERSION_NUMBER") {
      return HTTPTransportFailure(.tls, "TLS handshake failed (is the server speaking plain HTTP?)", underlying: error)
    }
    return HTTPTransportFailure(.tls, "TLS handshake failed", underlying: error)
  }

  private static func classify(errno code: Int32, underlying: any Error) -> HTTPTransportFailure {
    switch code {
    case ECONNREFUSED: HTTPTransportFailure(.connectionRefused, "connection refused", underlying: underlying)
    case ENETUNREACH, EHOSTUNREACH: HTTPTransportFailure(.unreachable, "host unreachable", underlying: underlying)
    case ETIMEDOUT: HTTPTransportFailure(.connectTimeout, "connection timed out", underlying: underlying)
    case ECONNRESET, EPIPE, ECONNABORTED:
      HTTPTransportFailure(.connectionLost, "connection reset by the server", underlying: underlying)
    default:
      HTTPTransportFailure(.other, String(cString: strerror(code)).lowercased(), underlying: underlying)
    }
  }
}
